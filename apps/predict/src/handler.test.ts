import { LocalDirArtifactStore } from '@apo/artifacts';
import { InMemoryBus } from '@apo/bus';
import { Topics, createMessage, type AnyMessage, type MessageOf } from '@apo/messages';
import { buildModel, loadDataset, prepareFeaturesCached, profileDataset, saveModel, selectBackend } from '@apo/ml';
import { canonicalize, configurationHash } from '@apo/model-config';
import { runStage, silentLogger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import { makeConfiguration, makePipeline } from '@apo/store/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { predictHandlers } from './handler.ts';

const quiet = silentLogger();
let bus: InMemoryBus;
let store: SqliteStore;
let artifacts: LocalDirArtifactStore;
let out: AnyMessage[];
let epochs: number;

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  artifacts = new LocalDirArtifactStore({ dir: mkdtempSync(join(tmpdir(), 'apo-pr-')) });
  out = [];
  epochs = 0;
  await runStage({ stage: 'predict', bus, processed: store, logger: quiet, handlers: predictHandlers({ artifacts, store, ready: () => selectBackend(), onEpoch: () => void (epochs += 1) }) });
  await bus.subscribe({ groupId: 'o', topics: [Topics.predict], handler: async (r) => void out.push(JSON.parse(r.value)) });
});
afterEach(async () => {
  await bus.close();
  await store.close();
});

async function prepare(learningRate: number, id: string) {
  const table = await loadDataset({ uri: 'builtin:iris' }, { dataRoot: tmpdir() });
  const profile = profileDataset(table);
  const { uri: featuresUri } = await prepareFeaturesCached({ artifacts, table, profile, split: { train: 0.7, validation: 0.15, test: 0.15 }, seed: 42 });
  const configuration = canonicalize({ hiddenLayers: [{ units: 16, activation: 'relu' }], optimizer: 'sgd', momentum: 0.9, learningRate, batchSize: 16, maxEpochs: 30, patience: 30 });
  await store.saveConfiguration(makeConfiguration({ id, datasetKey: profile.datasetKey, layerCount: 1, configuration: configuration as never, hash: configurationHash(configuration) }));
  await selectBackend();
  const model = buildModel(configuration, { featureCount: 4, task: 'classification', classCount: 3 }, { seed: 1 });
  const modelUri = await saveModel(model, artifacts, `models/p/${id}/initial`);
  model.dispose();
  return createMessage('RUN_MODEL', { pipelineId: 'p', iteration: 1, payload: { configurationId: id, configuration: configuration as never, modelUri, featuresUri, kpi: { metric: 'accuracy', target: 0.9 }, seed: 3 } });
}

const send = async (m: AnyMessage) => {
  await bus.publish(Topics.predict, [{ key: 'p', value: JSON.stringify(m) }]);
  await bus.whenIdle(120_000);
};

it('trains, evaluates on validation and test, saves the result, and trains a configuration once', async () => {
  const command = await prepare(0.05, 'c-ok');
  await send(command);
  const ready = out.filter((m): m is MessageOf<'PREDICTION_READY'> => m.type === 'PREDICTION_READY');
  expect(ready).toHaveLength(1);
  expect(ready[0]!.payload.validation.accuracy).toBeGreaterThan(0.8);
  expect(ready[0]!.payload.test.confusionMatrix?.size).toBe(3);
  expect(epochs).toBe(ready[0]!.payload.epochsRun);
  const [result] = await store.listResults({ pipelineId: 'p' });
  expect(result).toMatchObject({ configurationId: 'c-ok', status: 'succeeded', epochsRun: ready[0]!.payload.epochsRun, modelUri: ready[0]!.payload.trainedModelUri });

  // The command sent again by the orchestrator (its reply did not come in time, maybe lost after
  // this stage handled it: same id, next attempt) is answered again from the saved result.
  const before = epochs;
  await send({ ...command, attempt: 2 });
  expect(epochs).toBe(before);
  const again = out.filter((m): m is MessageOf<'PREDICTION_READY'> => m.type === 'PREDICTION_READY');
  expect(again).toHaveLength(2);
  expect(again[1]!.id).toBe(again[0]!.id);
  expect(again[1]!.payload).toEqual(again[0]!.payload);
});

it('refuses to train a configuration the store does not know, without retrying', async () => {
  const command = await prepare(0.05, 'c-known');
  await send({ ...command, id: 'other', payload: { ...command.payload, configurationId: 'c-unknown' } });
  const failed = out.filter((m): m is MessageOf<'STAGE_FAILED'> => m.type === 'STAGE_FAILED');
  expect(failed.map((m) => [m.payload.error.code, m.payload.error.retryable, m.payload.configurationId])).toEqual([['UNKNOWN_CONFIGURATION', false, 'c-unknown']]);
  expect(epochs).toBe(0);
});

it('does not train a configuration already judged failed, nor one of a pipeline that has finished', async () => {
  const timedOut = await prepare(0.05, 'c-late');
  await store.saveResult({
    id: 'c-late/result', pipelineId: 'p', iteration: 1, configurationId: 'c-late', datasetKey: 'k', layerCount: 1, status: 'failed',
    validation: null, test: null, trainingMs: null, epochsRun: null, modelUri: null, createdAt: new Date().toISOString(),
    error: { name: 'StepTimeoutError', code: 'STEP_TIMEOUT', message: 'step "train" got no PREDICTION_READY within 60 s', retryable: false },
  });
  await send(timedOut);

  const abandoned = await prepare(0.07, 'c-abandoned');
  const pipeline = await store.createPipeline(makePipeline({ id: 'p', status: 'finished', outcome: 'cancelled' }));
  expect(pipeline.status).toBe('finished');
  await send({ ...abandoned, id: 'abandoned' });

  expect(epochs).toBe(0);
  expect(out.filter((m) => m.type === 'PREDICTION_READY' || m.type === 'STAGE_FAILED')).toEqual([]);
  expect((await store.getResultOf('c-late'))!.status).toBe('failed');
  expect(await store.getResultOf('c-abandoned')).toBeNull();
});
