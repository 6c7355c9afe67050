import { InMemoryBus } from '@apo/bus';
import { Topics, createMessage, type AnyMessage, type DatasetProfile } from '@apo/messages';
import { runStage, silentLogger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import { makeConfiguration, makeMetrics, makeResultFor } from '@apo/store/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { configHandlers } from './handler.ts';

const quiet = silentLogger();
const profile: DatasetProfile = {
  datasetKey: 'sha256:wine',
  uri: 'builtin:wine',
  target: 'cultivar',
  task: 'classification',
  rows: 178,
  numericColumns: ['alcohol'],
  categoricalColumns: [],
  droppedColumns: [],
  featureCount: 13,
};

let bus: InMemoryBus;
let store: SqliteStore;
let out: AnyMessage[];

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  out = [];
  await runStage({ stage: 'config', bus, processed: store, logger: quiet, handlers: configHandlers({ store }) });
  await bus.subscribe({ groupId: 'o', topics: [Topics.config], handler: async (r) => void out.push(JSON.parse(r.value)) });
});
afterEach(async () => {
  await bus.close();
  await store.close();
});

const layers = (n: number, units: number) => ({
  hiddenLayers: Array.from({ length: n }, () => ({ units, activation: 'relu' })),
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
});

async function tried(pipelineId: string, iteration: number, datasetKey: string, n: number, units: number, accuracy: number | null) {
  const c = makeConfiguration({ pipelineId, iteration, datasetKey, layerCount: n, configuration: layers(n, units), createdAt: new Date(Date.UTC(2026, 0, iteration)).toISOString() });
  await store.saveConfiguration(c);
  await store.saveResult(
    accuracy === null
      ? makeResultFor(c, { status: 'failed', validation: null, test: null, error: { name: 'TrainingDivergedError', code: 'NAN_LOSS', message: 'loss became NaN', retryable: false } })
      : makeResultFor(c, { validation: makeMetrics({ accuracy }) }),
  );
}

it('summarises the dataset history by layer count and lists this pipeline’s attempts in order', async () => {
  await tried('other', 1, 'sha256:wine', 2, 64, 0.91);
  await tried('other', 2, 'sha256:wine', 1, 32, 0.88);
  await tried('other', 3, 'sha256:wine', 2, 128, 0.95);
  await tried('mine', 1, 'sha256:wine', 3, 16, null);
  await tried('mine', 2, 'sha256:wine', 1, 64, 0.9);
  await tried('x', 1, 'sha256:iris', 1, 8, 0.99);

  const request = createMessage('GET_CONFIGURATION', {
    pipelineId: 'mine',
    iteration: 3,
    payload: { datasetKey: 'sha256:wine', strategy: 'tpe', kpi: { metric: 'accuracy', target: 0.97 }, profile, llmTokensLeft: 1234 },
  });
  await bus.publish(Topics.config, [{ key: 'mine', value: JSON.stringify(request), headers: { type: request.type, id: request.id } }]);
  await bus.whenIdle();

  const reply = out.find((m) => m.type === 'GENERATE_NEW_LLM_CONFIGURATION');
  expect(reply).toBeDefined();
  if (reply?.type !== 'GENERATE_NEW_LLM_CONFIGURATION') return;
  expect(reply).toMatchObject({ pipelineId: 'mine', iteration: 3, causationId: request.id, payload: { strategy: 'tpe', profile: { rows: 178 }, llmTokensLeft: 1234 } });
  const { summary, attempts } = reply.payload.history as { summary: { total: number; groups: { layerCount: number; count: number; best: number | null; failed: number }[] }; attempts: { iteration: number; status: string }[] };
  expect(summary.total).toBe(5);
  expect(summary.groups.map((g) => [g.layerCount, g.count, g.best, g.failed])).toEqual([
    [1, 2, 0.9, 0],
    [2, 2, 0.95, 0],
    [3, 1, null, 1],
  ]);
  expect(attempts.map((a) => [a.iteration, a.status])).toEqual([
    [1, 'failed'],
    [2, 'succeeded'],
  ]);
  const text = reply.payload.historyText;
  expect(text.indexOf('1 layer:')).toBeLessThan(text.indexOf('2 layers:'));
  expect(text.indexOf('2 layers:')).toBeLessThan(text.indexOf('3 layers:'));
  expect(text).toMatch(/This pipeline so far \(2\):\n {2}#1 .* -> FAILED: loss became NaN\n {2}#2 .* -> accuracy 0.9000/);
  expect(text).not.toContain('0.99');
});
