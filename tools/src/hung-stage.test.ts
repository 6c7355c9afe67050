import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Document } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { STAGES, groupsStable, isReady, kafkaClient, stageEnv, startStage, tails, until, type StageProcess } from './stage-processes.ts';

// Training gets 4 s for its reply and one re-send with 1.5 times that: a trial gives up 10 s
// after its RUN_MODEL. The frozen process stays in its consumer group (session 60 s), so what is
// tested is the orchestrator's patience, not a rebalance.
const TRAIN_TIMEOUT_SECONDS = 4;
const services: StageProcess[] = [];

afterAll(() => {
  for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

describe('a stage that hangs (its process frozen with SIGSTOP)', () => {
  it('each trial waiting on it fails with STEP_TIMEOUT and the pipeline ends with the reason; once it wakes, its late work changes nothing and parallel trials succeed', async () => {
    const brokers = inject('KAFKA_BROKERS');
    const db = `hung_${randomUUID().slice(0, 8)}`;
    const mongoUri = `${inject('MONGODB_URI').replace(/\/?$/, '/')}${db}`;
    const base = { brokers, mongoUri, dataRoot: mkdtempSync(join(tmpdir(), 'apo-hung-data-')) };
    for (const stage of STAGES) {
      const extra: Record<string, string> =
        stage === 'orchestrator'
          ? { TRAIN_TIMEOUT_SECONDS: String(TRAIN_TIMEOUT_SECONDS), STEP_RETRIES: '1', SWEEP_INTERVAL_SECONDS: '0.5' }
          : stage === 'predict'
            ? { KAFKA_SESSION_TIMEOUT_MS: '60000' }
            : {};
      services.push(startStage(stage, stageEnv({ ...base, extra })));
    }
    const describeAll = () => tails(services);
    await until('every stage to be ready', 120_000, () => (services.every(isReady) ? true : undefined), describeAll);
    const client = kafkaClient(brokers, 'hung-observer');
    await groupsStable(client);
    const predict = services.find((s) => s.stage === 'predict')!;

    const producer = client.producer();
    await producer.connect();
    const start = (requestId: string, body: Record<string, unknown>) =>
      producer.send({ topic: 'adaptive-pipeline-workflow', messages: [{ value: JSON.stringify({ type: 'ADAPTIVE_PIPELINE_START', requestId, ...body }) }] });

    const mongo = await MongoClient.connect(mongoUri);
    try {
      const pipelines = mongo.db(db).collection('pipelines');
      const results = mongo.db(db).collection('results');
      const byRequest = (requestId: string) => pipelines.findOne({ requestId });
      const finished = (requestId: string) =>
        until(`pipeline ${requestId} to finish`, 240_000, async () => {
          const p = await byRequest(requestId);
          return p?.['status'] === 'finished' ? p : undefined;
        }, describeAll);

      predict.child.kill('SIGSTOP');
      const frozenAt = Date.now();
      await start('hung-1', { kpi: 'accuracy>=0.9', dataset: { uri: 'builtin:iris' }, budget: { maxIterations: 5, maxConsecutiveFailures: 2 } });
      const hung = await finished('hung-1');
      const secondsToGiveUp = Math.round((Date.now() - frozenAt) / 1000);
      const hungResults = await results.find({ pipelineId: hung['_id'] }).sort({ iteration: 1 }).toArray();

      predict.child.kill('SIGCONT');
      await start('after-wake', { kpi: 'accuracy>=0.9', dataset: { uri: 'builtin:iris' }, parallelism: 3, budget: { maxIterations: 9 } });
      const parallel = await finished('after-wake');
      // The woken stage reads its backlog, hung-1's RUN_MODELs first (with their re-sent copies).
      await until('the woken predict stage to skip hung-1\'s trainings', 60_000, () =>
        predict.lines.filter((l) => l.includes(String(hung['_id'])) && l.includes('already judged failed; not trained')).length >= 2 ? true : undefined,
      describeAll);
      const configurations = await mongo.db(db).collection('configurations').find({ pipelineId: parallel['_id'] }).toArray();
      const parallelResults = await results.find({ pipelineId: parallel['_id'] }).toArray();

      const numbers = {
        secondsToGiveUp,
        hung: { outcome: hung['outcome'], iterations: hung['iteration'], results: hungResults.map((r: Document) => r['error']?.['code']) },
        parallel: { outcome: parallel['outcome'], iterationsStarted: parallel['iteration'], configurations: configurations.length, results: parallelResults.length },
      };
      console.log(`hung stage: ${JSON.stringify(numbers)}`);

      expect(hung).toMatchObject({ outcome: 'failed', iteration: 2, best: null });
      expect(hung['reason']).toMatch(
        /^2 iterations failed in a row; last error: step "train" got no PREDICTION_READY within 10 s \(RUN_MODEL sent 2 times\)/,
      );
      expect(hungResults.map((r: Document) => [r['iteration'], r['status'], r['error']?.['code']])).toEqual([
        [1, 'failed', 'STEP_TIMEOUT'],
        [2, 'failed', 'STEP_TIMEOUT'],
      ]);
      // The late trainings were skipped, so hung-1 is exactly as it was when it gave up.
      expect(await byRequest('hung-1')).toEqual(hung);
      expect(await results.countDocuments({ pipelineId: hung['_id'] })).toBe(2);

      expect(parallel['outcome']).toBe('succeeded');
      // Each trial is its own iteration with its own configuration, and none is trained twice.
      expect(new Set(configurations.map((c: Document) => c['iteration'])).size).toBe(configurations.length);
      expect(new Set(parallelResults.map((r: Document) => r['configurationId'])).size).toBe(parallelResults.length);
      expect(Number(parallel['iteration'])).toBeGreaterThanOrEqual(3);
    } finally {
      await producer.disconnect();
      await mongo.close();
    }

    for (const s of services) expect(s.child.exitCode).toBeNull();
    for (const s of services) s.child.kill('SIGTERM');
    expect(await Promise.all(services.map((s) => s.exited))).toEqual(STAGES.map(() => 0));
  }, 600_000);
});
