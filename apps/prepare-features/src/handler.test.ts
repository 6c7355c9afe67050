import { LocalDirArtifactStore } from '@apo/artifacts';
import { InMemoryBus } from '@apo/bus';
import { Topics, createMessage, type AnyMessage, type MessageOf } from '@apo/messages';
import { loadDataset, loadFeatures } from '@apo/ml';
import { runStage, silentLogger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { prepareFeaturesHandlers } from './handler.ts';

const quiet = silentLogger();
let bus: InMemoryBus;
let store: SqliteStore;
let artifacts: LocalDirArtifactStore;
let dataRoot: string;
let out: AnyMessage[];

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  dataRoot = mkdtempSync(join(tmpdir(), 'apo-data-'));
  artifacts = new LocalDirArtifactStore({ dir: mkdtempSync(join(tmpdir(), 'apo-art-')) });
  out = [];
  await runStage({ stage: 'prepare-features', bus, processed: store, logger: quiet, handlers: prepareFeaturesHandlers({ artifacts, dataRoot }) });
  await bus.subscribe({ groupId: 'o', topics: [Topics.features], handler: async (r) => void out.push(JSON.parse(r.value)) });
});
afterEach(async () => {
  await bus.close();
  await store.close();
});

async function request(uri: string, datasetKey: string, iteration = 1, target?: string) {
  const m = createMessage('PREPARE_FEATURES', {
    pipelineId: 'p',
    iteration,
    payload: { dataset: { uri, ...(target ? { target } : {}) }, datasetKey, task: 'classification', split: { train: 0.7, validation: 0.15, test: 0.15 }, seed: 42 },
  });
  await bus.publish(Topics.features, [{ key: 'p', value: JSON.stringify(m) }]);
  await bus.whenIdle();
}

it('prepares the features once and reuses them for the next identical request', async () => {
  const { contentHash } = await loadDataset({ uri: 'builtin:iris' }, { dataRoot });
  await request('builtin:iris', contentHash, 1);
  await request('builtin:iris', contentHash, 2);
  const ready = out.filter((m): m is MessageOf<'FEATURES_READY'> => m.type === 'FEATURES_READY');
  expect(ready.map((m) => m.payload.reused)).toEqual([false, true]);
  expect(ready[0]!.payload).toMatchObject({ featureCount: 4, rows: { train: 105 } });
  expect(ready[0]!.payload.rows.train + ready[0]!.payload.rows.validation + ready[0]!.payload.rows.test).toBe(150);
  const features = await loadFeatures(artifacts, ready[1]!.payload.featuresUri);
  expect(features.classes).toEqual(['setosa', 'versicolor', 'virginica']);
});

it('reports a dataset that changed since profiling, or cannot be read, as a stage failure', async () => {
  writeFileSync(join(dataRoot, 'd.csv'), 'a,b,label\n1,2,x\n');
  await request('d.csv', 'sha256:stale');
  await request('../outside.csv', 'sha256:x');
  const failed = out.filter((m): m is MessageOf<'STAGE_FAILED'> => m.type === 'STAGE_FAILED');
  expect(failed.map((m) => m.payload.error.retryable)).toEqual([false, false]);
  expect(failed[0]!.payload.error.message).toMatch(/changed since the pipeline profiled it/);
  expect(failed[1]!.payload.error.message).toMatch(/outside/);
});

it('keeps a pipeline on the features it was first given, even if the file changes later', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 11},${i % 2 ? 'yes' : 'no'}`);
  writeFileSync(join(dataRoot, 'd.csv'), `a,b,label\n${rows.join('\n')}\n`);
  const { contentHash } = await loadDataset({ uri: 'd.csv' }, { dataRoot });
  await request('d.csv', contentHash, 1);
  writeFileSync(join(dataRoot, 'd.csv'), 'a,b,label\n1,2,x\n');
  await request('d.csv', contentHash, 2);
  const ready = out.filter((m): m is MessageOf<'FEATURES_READY'> => m.type === 'FEATURES_READY');
  expect(ready).toHaveLength(2);
  expect(ready[1]!.payload).toMatchObject({ featuresUri: ready[0]!.payload.featuresUri, reused: true, rows: ready[0]!.payload.rows });
});
