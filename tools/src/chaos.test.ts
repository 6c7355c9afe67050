import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mersenne } from 'pure-rand/generator/mersenne';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { STAGES, groupsStable, isReady, kafkaClient, stageEnv, startStage, tails, until, watchFinished, type Stage, type StageProcess } from './stage-processes.ts';

const PIPELINES = 10;
/** Every stage is killed this many times, in a shuffled order. */
const KILLS_PER_STAGE = 2;

const all: StageProcess[] = [];
const current = new Map<Stage, StageProcess>();
afterAll(() => {
  for (const p of all) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

/** A seeded stream (pure-rand), so a failing run's kill order can be replayed from its seed. */
function seeded(seed: number): () => number {
  const rng = mersenne(seed | 0);
  return () => uniformFloat64(rng);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many keys occur more than once. */
function repeats(keys: string[]): number {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.values()].filter((n) => n > 1).length;
}

describe('stage processes killed with SIGKILL and restarted while pipelines run', () => {
  it('every pipeline finishes; no iteration has two results and no configuration is trained twice', async () => {
    const seed = Number(process.env['CHAOS_SEED'] ?? Date.now() % 100_000);
    const random = seeded(seed);
    const brokers = inject('KAFKA_BROKERS');
    const db = `chaos_${randomUUID().slice(0, 8)}`;
    const mongoUri = `${inject('MONGODB_URI').replace(/\/?$/, '/')}${db}`;
    const env = stageEnv({
      brokers,
      mongoUri,
      dataRoot: mkdtempSync(join(tmpdir(), 'apo-chaos-data-')),
      // A killed process never leaves its group: its partitions wait this long for the restart.
      extra: { KAFKA_SESSION_TIMEOUT_MS: '10000' },
    });
    const describeAll = () => `chaos seed ${seed}\n${tails([...current.values()])}`;
    const start = (stage: Stage) => {
      const p = startStage(stage, env);
      all.push(p);
      current.set(stage, p);
      return p;
    };
    for (const stage of STAGES) start(stage);
    await until('every stage to be ready', 120_000, () => ([...current.values()].every(isReady) ? true : undefined), describeAll);
    const kafka = kafkaClient(brokers, 'chaos-observer');
    await groupsStable(kafka);
    const watch = await watchFinished(kafka, `chaos-observer-${db}`);

    // Half can meet their KPI, half run to their budget (two trials at a time): both kinds keep
    // every stage busy, and the parallel ones finish every trial they start, so each has a result.
    const requestIds = Array.from({ length: PIPELINES }, (_, i) => `chaos-${db}-${i}`);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'adaptive-pipeline-workflow',
      messages: requestIds.map((requestId, i) => ({
        value: JSON.stringify({
          type: 'ADAPTIVE_PIPELINE_START',
          requestId,
          ...(i % 2 === 0
            ? { kpi: 'accuracy>=0.99', dataset: { uri: 'builtin:iris' }, budget: { maxIterations: 4 } }
            : { kpi: 'rmse<=1', dataset: { uri: 'builtin:diabetes' }, budget: { maxIterations: 4 }, parallelism: 2 }),
        }),
      })),
    });
    await producer.disconnect();
    const began = Date.now();
    // The notifications topic also holds earlier runs' ends: count this run's only.
    const ends = () => requestIds.map((r) => watch.finished.get(r)).filter((f) => f !== undefined);

    // The controller: each stage twice in a shuffled order, a few seconds apart, each restart
    // ready before the next kill so every kill lands on a process that consumes.
    const plan = STAGES.flatMap((s) => Array.from({ length: KILLS_PER_STAGE }, () => s));
    for (let i = plan.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [plan[i], plan[j]] = [plan[j]!, plan[i]!];
    }
    let kills = 0;
    let restarts = 0;
    const killed: Stage[] = [];
    for (const stage of plan) {
      await sleep(2_000 + random() * 3_000);
      if (ends().length === PIPELINES) break;
      const victim = current.get(stage)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      kills += 1;
      killed.push(stage);
      const next = start(stage);
      restarts += 1;
      await until(`${stage} to be ready again`, 120_000, () => (isReady(next) ? true : undefined), describeAll);
    }

    await until(`all ${PIPELINES} pipelines to finish`, 600_000, () => (ends().length === PIPELINES ? true : undefined), () =>
      `${ends().length} finished\n${describeAll()}`,
    );
    await watch.stop();
    const seconds = Math.round((Date.now() - began) / 1000);

    const client = await MongoClient.connect(mongoUri);
    try {
      const database = client.db(db);
      const pipelines = await database.collection('pipelines').find({ requestId: { $in: requestIds } }).toArray();
      const ids = pipelines.map((p) => p['_id'] as unknown as string);
      const configurations = await database.collection('configurations').find({ pipelineId: { $in: ids } }).toArray();
      const results = await database.collection('results').find({ pipelineId: { $in: ids } }).toArray();
      const trainings = all.flatMap((p) =>
        p.stage === 'predict'
          ? p.lines.filter((l) => l.includes('"msg":"trained and evaluated"')).map((l) => (JSON.parse(l) as { configurationId: string }).configurationId)
          : [],
      );
      const numbers = {
        seed,
        kills,
        restarts,
        pipelines: PIPELINES,
        finished: ends().length,
        outcomes: Object.fromEntries(
          [...new Set(ends().map((f) => f.outcome))].map((o) => [o, ends().filter((f) => f.outcome === o).length]),
        ),
        trainings: trainings.length,
        failedIterations: results
          .filter((r) => r['status'] === 'failed')
          .map((r) => r['error'] as { code: string; message: string }),
        duplicateResults: repeats(results.map((r) => `${r['pipelineId']}#${r['iteration']}`)),
        duplicateConfigurations: repeats(configurations.map((c) => `${c['pipelineId']}#${c['iteration']}`)),
        duplicateHashes: repeats(configurations.map((c) => `${c['datasetKey']}#${c['hash']}`)),
        duplicateTrainings: repeats(trainings),
        seconds,
      };
      console.log(`chaos: ${JSON.stringify(numbers)}`);

      expect(kills).toBe(plan.length);
      for (const stage of STAGES) expect(killed.filter((s) => s === stage).length).toBeGreaterThanOrEqual(KILLS_PER_STAGE);
      expect(restarts).toBe(kills);
      expect(pipelines.every((p) => p['status'] === 'finished')).toBe(true);
      expect(new Set(ends().map((f) => f.outcome))).toSatisfy((outcomes: Set<string>) =>
        [...outcomes].every((o) => o === 'succeeded' || o === 'budget_exhausted'),
      );
      // A proposal may diverge in training (NAN_LOSS): that is the model's failure, recorded as
      // such. Anything else (a lost step, a timeout) would be the kills' doing.
      expect(numbers.failedIterations.filter((e) => e.code !== 'NAN_LOSS')).toEqual([]);
      expect(numbers).toMatchObject({ duplicateResults: 0, duplicateConfigurations: 0, duplicateHashes: 0, duplicateTrainings: 0 });
      // Every iteration a pipeline counted has its configuration and its result.
      const used = ends().reduce((n, f) => n + Number(f['iterationsUsed']), 0);
      expect(results.length).toBe(used);
      expect(configurations.length).toBe(used);
    } finally {
      await client.close();
    }

    // The services still running were never stopped: none exited on its own.
    for (const p of current.values()) expect(p.child.exitCode).toBeNull();
    for (const p of current.values()) p.child.kill('SIGTERM');
    expect(await Promise.all([...current.values()].map((p) => p.exited))).toEqual(STAGES.map(() => 0));
  }, 1_200_000);
});
