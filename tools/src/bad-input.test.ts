import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { STAGES, groupsStable, isReady, kafkaClient, stageEnv, startStage, tails, until as poll, watchFinished, type StageProcess } from './stage-processes.ts';

const services: StageProcess[] = [];
const until = <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined) =>
  poll(what, timeoutMs, check, () => tails(services));

afterAll(() => {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

describe('bad input over Kafka, to the six stage processes', () => {
  it('each bad record gets a dead-letter record or a PIPELINE_FINISHED with the reason; no service exits; a good pipeline succeeds', async () => {
    const brokers = inject('KAFKA_BROKERS');
    const db = `bad_${randomUUID().slice(0, 8)}`;
    const dataRoot = mkdtempSync(join(tmpdir(), 'apo-bad-data-'));
    // Bytes that are no CSV at all (a PNG header and noise), under a .csv name.
    writeFileSync(join(dataRoot, 'picture.csv'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]), randomBytes(4096)]));
    const env = stageEnv({ brokers, mongoUri: `${inject('MONGODB_URI').replace(/\/?$/, '/')}${db}`, dataRoot });
    for (const stage of STAGES) services.push(startStage(stage, env));
    await until('every stage to be ready', 120_000, () => (services.every(isReady) ? true : undefined));
    const kafka = kafkaClient(brokers, 'bad-input-observer');
    await groupsStable(kafka);
    const watch = await watchFinished(kafka, `bad-input-observer-${db}`);

    // The dead-letter topic from now on: this run's records carry a marker in their value.
    const marker = `bad-${randomUUID()}`;
    const dead: { reason: string; topic: string; value: string }[] = [];
    const deadConsumer = kafka.consumer({ groupId: `bad-input-dead-${db}` });
    await deadConsumer.connect();
    await deadConsumer.subscribe({ topic: 'adaptive-pipeline-dead-letter', fromBeginning: true });
    await deadConsumer.run({
      eachMessage: async ({ message }) => {
        const record = JSON.parse(message.value!.toString()) as { reason: string; topic: string; value: string };
        if (record.value.includes(marker)) dead.push(record);
      },
    });

    const envelope = (type: string, payload: unknown) =>
      JSON.stringify({ id: `${marker}-${type}`, type, pipelineId: marker, iteration: 1, attempt: 1, causationId: null, createdAt: new Date().toISOString(), version: 1, payload });
    const start = (name: string, fields: Record<string, unknown>) =>
      JSON.stringify({ type: 'ADAPTIVE_PIPELINE_START', requestId: `${marker}-${name}`, ...fields });
    const producer = kafka.producer();
    await producer.connect();
    const send = (topic: string, value: string) => producer.send({ topic, messages: [{ key: marker, value }] });
    await send('adaptive-pipeline-workflow', `{"kpi":"accuracy>=0.9","dataset":"builtin:iris","note":"${marker}"`);
    await send('adaptive-pipeline-config-topic', envelope('MAKE_COFFEE', {}));
    await send('adaptive-pipeline-config-topic', envelope('GET_CONFIGURATION', { datasetKey: 'k', strategy: 'guess' }));
    await send('adaptive-pipeline-workflow', start('oversized', { kpi: 'accuracy>=0.9', dataset: 'builtin:iris', padding: 'x'.repeat(600 * 1024) }));
    await send('adaptive-pipeline-workflow', start('outside', { kpi: 'accuracy>=0.9', dataset: { uri: '/etc/passwd', target: 'root' } }));
    await send('adaptive-pipeline-workflow', start('not-csv', { kpi: 'accuracy>=0.9', dataset: { uri: 'picture.csv' } }));
    await send('adaptive-pipeline-workflow', start('unmeetable', { kpi: 'rmse<=0.001', dataset: 'builtin:diabetes', budget: { maxIterations: 2 } }));
    await send('adaptive-pipeline-workflow', start('good', { kpi: 'accuracy>=0.9', dataset: 'builtin:iris', budget: { maxIterations: 5 } }));
    await producer.disconnect();

    const ends = ['outside', 'not-csv', 'unmeetable', 'good'].map((n) => `${marker}-${n}`);
    await until('the four pipelines to finish', 300_000, () => (ends.every((r) => watch.finished.has(r)) ? true : undefined));
    // Every consumer group that reads the topic sets the record aside on its own (the config
    // topic has three), so a reason may come more than once.
    await until('four kinds of dead-letter record', 60_000, () => (new Set(dead.map((d) => d.reason)).size >= 4 ? true : undefined));
    await watch.stop();
    await deadConsumer.disconnect();

    const reasons = [...new Set(dead.map((d) => d.reason))].sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^invalid GET_CONFIGURATION message: payload\.strategy: .*\(got "guess"\)/),
      expect.stringMatching(/^record of \d+ bytes is larger than the 524288 bytes a message may have$/),
      expect.stringMatching(/^start message is not JSON: /),
      expect.stringMatching(/^unknown message type "MAKE_COFFEE"/),
    ]);
    const finished = (name: string) => watch.finished.get(`${marker}-${name}`)!;
    expect(finished('outside')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/\/etc\/passwd.*outside|outside.*\/etc\/passwd/) });
    expect(finished('not-csv')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/picture\.csv/) });
    expect(finished('unmeetable')).toMatchObject({ outcome: 'budget_exhausted', iterationsUsed: 2, reason: expect.stringMatching(/rmse/) });
    expect(finished('good')).toMatchObject({ outcome: 'succeeded' });
    console.log(`bad input: ${JSON.stringify({ deadLetters: reasons, finished: Object.fromEntries(['outside', 'not-csv', 'unmeetable', 'good'].map((n) => [n, `${finished(n).outcome}: ${finished(n).reason}`])) })}`);

    // No service exited on any of it, and each still stops cleanly.
    for (const s of services) expect(s.child.exitCode, s.stage).toBeNull();
    for (const s of services) s.child.kill('SIGTERM');
    expect(await Promise.all(services.map((s) => s.exited))).toEqual(STAGES.map(() => 0));
  }, 480_000);
});
