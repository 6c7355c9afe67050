import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { consoleProduce } from '../services/kafka.mjs';

const APO = new URL('../../apps/cli/bin/apo.mjs', import.meta.url).pathname;
import { STAGES, groupsStable, isReady, kafkaClient, stageEnv, startStage, tails, until as poll, watchFinished, type StageProcess } from './stage-processes.ts';

const services: StageProcess[] = [];
const until = <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined) =>
  poll(what, timeoutMs, check, () => tails(services));

afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

describe('the six stages as separate processes on Kafka and MongoDB', () => {
  it('a start message typed into Kafka’s console producer ends in PIPELINE_FINISHED succeeded, recorded in MongoDB; apo start, watch and cancel do what they say', async () => {
    const brokers = inject('KAFKA_BROKERS');
    const db = `e2e_${randomUUID().slice(0, 8)}`;
    const mongoUri = `${inject('MONGODB_URI').replace(/\/?$/, '/')}${db}`;
    const env = stageEnv({ brokers, mongoUri, dataRoot: mkdtempSync(join(tmpdir(), 'apo-e2e-data-')) });
    for (const stage of STAGES) services.push(startStage(stage, env));
    await until('every stage to be ready', 120_000, () => (services.every(isReady) ? true : undefined));
    const kafka = kafkaClient(brokers, 'e2e-observer');
    await groupsStable(kafka);

    const requestId = `e2e-${randomUUID()}`;
    const watch = await watchFinished(kafka, `e2e-observer-${requestId}`);

    // What a user pastes into kafka-console-producer.sh, sent by that very class.
    const start = JSON.stringify({
      type: 'ADAPTIVE_PIPELINE_START',
      requestId,
      kpi: { metric: 'accuracy', target: 0.9 },
      dataset: { uri: 'builtin:iris' },
      budget: { maxIterations: 5 },
    });
    await consoleProduce({ brokers, topic: 'adaptive-pipeline-workflow', lines: [start] });

    const payload = await until('PIPELINE_FINISHED', 240_000, () => watch.finished.get(requestId));
    await watch.stop();
    expect(payload).toMatchObject({ outcome: 'succeeded', kpi: { metric: 'accuracy', target: 0.9 } });
    const best = payload['best'] as { modelUri: string; validation: Record<string, number> };
    expect(best.validation['accuracy']).toBeGreaterThanOrEqual(0.9);
    expect(best.modelUri).toMatch(/^gridfs:\/\/artifacts\//);

    // MongoDB holds the pipeline, its configurations with layer counts, and their results.
    const client = await MongoClient.connect(mongoUri);
    let pipelineId: unknown;
    try {
      const database = client.db(db);
      const pipeline = await database.collection('pipelines').findOne({ requestId });
      pipelineId = pipeline?.['_id'];
      expect(pipeline).toMatchObject({ status: 'finished', outcome: 'succeeded' });
      const configurations = await database.collection('configurations').find({ pipelineId: pipeline!['_id'] }).toArray();
      const results = await database.collection('results').find({ pipelineId: pipeline!['_id'] }).toArray();
      expect(configurations.length).toBe(payload['iterationsUsed']);
      for (const c of configurations) expect(c['layerCount']).toBe((c['configuration'] as { hiddenLayers: unknown[] }).hiddenLayers.length);
      expect(results.map((r) => r['configurationId']).sort()).toEqual(configurations.map((c) => c['_id']).sort());
      const files = await database.collection('artifacts.files').countDocuments();
      expect(files).toBeGreaterThan(0);
    } finally {
      await client.close();
    }

    // Every line a stage logged while handling a message says which pipeline and iteration.
    const handled = services.flatMap((s) => s.lines.filter((l) => l.startsWith('{') && l.includes('"messageId"') && !l.includes('"type":"ADAPTIVE_PIPELINE_START"')));
    expect(handled.length).toBeGreaterThan(0);
    // (Not only this pipeline's: the broker and the consumer groups are shared with the other test
    // files, and commands another test left in flight, such as trials a pipeline let go when it
    // met its KPI, may reach these stages too.)
    for (const line of handled) expect(JSON.parse(line)).toMatchObject({ pipelineId: expect.any(String), iteration: expect.any(Number) });
    expect(handled.some((l) => (JSON.parse(l) as { pipelineId: string }).pipelineId === pipelineId)).toBe(true);

    // The operator's way: apo start publishes, apo watch follows it in MongoDB to its exit code.
    const apoEnv = { ...process.env, KAFKA_BROKERS: brokers, MONGODB_URI: mongoUri };
    const second = `apo-start-${randomUUID()}`;
    const started = await apo(['start', JSON.stringify({ kpi: 'accuracy>=0.9', dataset: 'builtin:iris', requestId: second, budget: { maxIterations: 5 } })], apoEnv);
    expect(started).toMatchObject({ code: 0, out: `published on adaptive-pipeline-workflow, request id ${second}\n` });
    const watched = await apo(['watch', second, '--interval', '200'], apoEnv);
    expect(watched.code, watched.out + watched.err).toBe(0);
    expect(watched.out).toMatch(/^iteration 1: validation accuracy \d\.\d{4}, test \d\.\d{4}$/m);
    expect(watched.out).toMatch(/^state: succeeded, /m);
    expect((await apo(['status', second], apoEnv)).out).toMatch(/^model: gridfs:\/\/artifacts\//m);
    expect((await apo(['list', '--running'], apoEnv)).out).toBe('no pipelines\n');

    // apo cancel stops a pipeline that could run for long: outcome cancelled, exit code 4.
    const third = `apo-start-${randomUUID()}`;
    await apo(['start', JSON.stringify({ kpi: 'rmse<=1', dataset: 'builtin:diabetes', requestId: third, budget: { maxIterations: 50 } })], apoEnv);
    await until('the pipeline to train', 120_000, async () => {
      const listed = JSON.parse((await apo(['list', '--running', '--json'], apoEnv)).out) as { requestId: string; iteration: number }[];
      return listed.some((p) => p.requestId === third && p.iteration >= 2) ? true : undefined;
    });
    const cancelled = await apo(['cancel', third, '--reason', 'wrong dataset'], apoEnv);
    expect(cancelled, cancelled.err).toMatchObject({ code: 0 });
    const end = await apo(['watch', third, '--interval', '200'], apoEnv);
    expect(end.code, end.out + end.err).toBe(4);
    expect(end.out).toMatch(/^state: cancelled, wrong dataset \(during iteration \d+, step \w+\)$/m);

    // SIGTERM: each service leaves its group and exits cleanly.
    for (const s of services) s.child.kill('SIGTERM');
    expect(await Promise.all(services.map((s) => s.exited))).toEqual(STAGES.map(() => 0));
  }, 480_000);
});

/** Runs the apo command as a user would: its own process, its environment, its exit code. */
function apo(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [APO, ...args], { env, timeout: 240_000 }, (error, out, err) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? (error.code as number) : 0, out, err });
    });
  });
}
