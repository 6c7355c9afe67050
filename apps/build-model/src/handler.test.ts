import { LocalDirArtifactStore } from '@apo/artifacts';
import { InMemoryBus } from '@apo/bus';
import { Topics, createMessage, type AnyMessage, type DatasetProfile, type MessageOf } from '@apo/messages';
import { loadModel, selectBackend } from '@apo/ml';
import { runStage, silentLogger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildModelHandlers } from './handler.ts';

const quiet = silentLogger();
const profile: DatasetProfile = {
  datasetKey: 'k',
  uri: 'builtin:wine',
  target: 'cultivar',
  task: 'classification',
  rows: 178,
  numericColumns: [],
  categoricalColumns: [],
  droppedColumns: [],
  featureCount: 13,
  classes: [
    { label: 'class_0', count: 59 },
    { label: 'class_1', count: 71 },
    { label: 'class_2', count: 48 },
  ],
};
let bus: InMemoryBus;
let store: SqliteStore;
let artifacts: LocalDirArtifactStore;
let out: AnyMessage[];

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  artifacts = new LocalDirArtifactStore({ dir: mkdtempSync(join(tmpdir(), 'apo-bm-')) });
  out = [];
  await runStage({ stage: 'build-model', bus, processed: store, logger: quiet, handlers: buildModelHandlers({ artifacts, ready: () => selectBackend() }) });
  await bus.subscribe({ groupId: 'o', topics: [Topics.model], handler: async (r) => void out.push(JSON.parse(r.value)) });
});
afterEach(async () => {
  await bus.close();
  await store.close();
});

async function build(configuration: Record<string, unknown>) {
  const m = createMessage('GENERATE_MODEL', { pipelineId: 'p', iteration: 1, payload: { configurationId: 'c1', configuration, profile, seed: 7 } });
  await bus.publish(Topics.model, [{ key: 'p', value: JSON.stringify(m) }]);
  await bus.whenIdle(60_000);
}

it('builds the configured hidden layers with an output layer for the task and saves it', async () => {
  await build({ hiddenLayers: [{ units: 32, activation: 'relu' }, { units: 16, activation: 'tanh', dropout: 0.2 }], optimizer: 'adam', learningRate: 0.001, batchSize: 16, maxEpochs: 10, patience: 3 });
  const ready = out.find((m): m is MessageOf<'MODEL_READY'> => m.type === 'MODEL_READY')!;
  // 13·32+32 + 32·16+16 + 16·3+3 weights: dense layers and a 3-class softmax.
  expect(ready.payload.parameterCount).toBe(13 * 32 + 32 + 32 * 16 + 16 + 16 * 3 + 3);
  const model = await loadModel(artifacts, ready.payload.modelUri);
  expect(model.outputs[0]!.shape).toEqual([null, 3]);
  model.dispose();
});

it('refuses a configuration outside the bounds, naming the field, without retrying', async () => {
  await build({ hiddenLayers: [{ units: 4096, activation: 'relu' }], optimizer: 'adam', learningRate: 0.001, batchSize: 16, maxEpochs: 10 });
  const failed = out.find((m): m is MessageOf<'STAGE_FAILED'> => m.type === 'STAGE_FAILED')!;
  expect(failed.payload.error).toMatchObject({ retryable: false, code: 'INVALID_INPUT' });
  expect(failed.payload.error.message).toMatch(/hiddenLayers.0.units.*4096/);
});
