import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startKafka, type RunningKafka } from '../services/kafka.mjs';
import { STAGES, groupsStable, isReady, kafkaClient, stageEnv, startStage, tails, until, type StageProcess } from './stage-processes.ts';

// This test owns its broker (rather than using KAFKA_BROKERS): it stops it mid-run.
const PIPELINES = 4;
const OUTAGE_MS = 10_000;
const kafkaDir = mkdtempSync(join(tmpdir(), 'apo-broker-restart-'));
const services: StageProcess[] = [];
let kafka: RunningKafka | undefined;

afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await kafka?.stop();
  rmSync(kafkaDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the Kafka broker stopped for 10 seconds mid-run', () => {
  it('every pipeline runs its whole budget once the broker is back, and no iteration has two results', async () => {
    kafka = await startKafka({ dataDir: kafkaDir });
    const brokers = kafka.brokers;
    const db = `restart_${randomUUID().slice(0, 8)}`;
    const mongoUri = `${inject('MONGODB_URI').replace(/\/?$/, '/')}${db}`;
    const env = stageEnv({ brokers, mongoUri, dataRoot: mkdtempSync(join(tmpdir(), 'apo-restart-data-')) });
    for (const stage of STAGES) services.push(startStage(stage, env));
    const describeAll = () => tails(services);
    await until('every stage to be ready', 120_000, () => (services.every(isReady) ? true : undefined), describeAll);
    const client = kafkaClient(brokers, 'restart-observer');
    await groupsStable(client);

    const requestIds = Array.from({ length: PIPELINES }, (_, i) => `restart-${db}-${i}`);
    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic: 'adaptive-pipeline-workflow',
      // An unreachable KPI (diabetes rmse is about 50), so every pipeline runs its whole budget
      // and is still running when the broker goes away.
      messages: requestIds.map((requestId) => ({
        value: JSON.stringify({
          type: 'ADAPTIVE_PIPELINE_START',
          requestId,
          kpi: 'rmse<=1',
          dataset: { uri: 'builtin:diabetes' },
          budget: { maxIterations: 5 },
        }),
      })),
    });
    await producer.disconnect();

    // The store, not the notifications topic, tells what finished: an observer on the broker
    // would itself be cut off by the outage under test.
    const mongo = await MongoClient.connect(mongoUri);
    try {
      const pipelines = mongo.db(db).collection('pipelines');
      const results = mongo.db(db).collection('results');
      const mine = () => pipelines.find({ requestId: { $in: requestIds } }).toArray();
      // Stop the broker once every pipeline has a result and none has finished.
      await until('a first result of every pipeline', 240_000, async () => {
        const ps = await mine();
        if (ps.length < PIPELINES) return undefined;
        const done = await results.countDocuments({ pipelineId: { $in: ps.map((p) => p['_id']) } });
        return done >= PIPELINES ? true : undefined;
      }, describeAll);
      const before = (await mine()).filter((p) => p['status'] === 'finished').length;

      await kafka.stop({ keepData: true });
      await sleep(OUTAGE_MS);
      kafka = await startKafka({ dataDir: kafkaDir });
      const back = Date.now();
      const ids0 = (await mine()).map((p) => p['_id']);
      const resultsAtRestart = await results.countDocuments({ pipelineId: { $in: ids0 } });
      // The time to the first result written after the restart is the recovery, seen by a user.
      let firstResultAfter: number | null = null;

      await until(`all ${PIPELINES} pipelines to finish after the restart`, 480_000, async () => {
        const ps = await mine();
        if (firstResultAfter === null && (await results.countDocuments({ pipelineId: { $in: ids0 } })) > resultsAtRestart) {
          firstResultAfter = Date.now() - back;
        }
        return ps.length === PIPELINES && ps.every((p) => p['status'] === 'finished') ? true : undefined;
      }, describeAll);
      const finished = await mine();
      const ids = finished.map((p) => p['_id']);
      const all = await results.find({ pipelineId: { $in: ids } }).toArray();
      const keys = all.map((r) => `${r['pipelineId']}#${r['iteration']}`);
      const numbers = {
        pipelines: PIPELINES,
        finishedBeforeOutage: before,
        finished: finished.length,
        outcomes: finished.map((p) => p['outcome']),
        results: all.length,
        duplicateResults: keys.length - new Set(keys).size,
        resultsAtRestart,
        secondsToFirstResultAfterRestart: firstResultAfter === null ? null : Math.round(firstResultAfter / 1000),
        secondsToFinishAfterRestart: Math.round((Date.now() - back) / 1000),
      };
      console.log(`broker restart: ${JSON.stringify(numbers)}`);
      expect(before).toBe(0);
      expect(finished.map((p) => p['outcome'])).toEqual(requestIds.map(() => 'budget_exhausted'));
      expect(finished.map((p) => p['iteration'])).toEqual(requestIds.map(() => 5));
      expect(numbers.duplicateResults).toBe(0);
      // Every iteration a pipeline counted has its result.
      expect(all.length).toBe(finished.reduce((n, p) => n + Number(p['iteration']), 0));
    } finally {
      await mongo.close();
    }

    // No service exited during the outage, and each still stops cleanly.
    for (const s of services) expect(s.child.exitCode).toBeNull();
    for (const s of services) s.child.kill('SIGTERM');
    expect(await Promise.all(services.map((s) => s.exited))).toEqual(STAGES.map(() => 0));
  }, 900_000);
});
