import { tmpdir } from 'node:os';
import { canonicalize } from '@apo/model-config';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, prepareFeatures, profileDataset } from './data/index.ts';
import { buildModel, evaluateModel, selectBackend, trainModel } from './model/index.ts';

// Sanity floors on the built-in datasets with one fixed, reasonable configuration: if these
// fail, something between the CSV and the metrics is broken, whatever the proposer does.
const fixed = canonicalize({
  hiddenLayers: [
    { units: 64, activation: 'relu' },
    { units: 64, activation: 'relu' },
  ],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 300,
  patience: 20,
});

beforeAll(async () => {
  await selectBackend();
});

async function testMetrics(uri: string) {
  const table = await loadDataset({ uri }, { dataRoot: tmpdir() });
  const profile = profileDataset(table);
  const features = prepareFeatures(table, profile, { split: { train: 0.7, validation: 0.15, test: 0.15 }, seed: 42 });
  const model = buildModel(fixed, features, { seed: 42 });
  try {
    await trainModel(model, fixed, features, { seed: 42 });
    return evaluateModel(model, features.test, features);
  } finally {
    model.dispose();
  }
}

describe('quality floors with 2 × 64 relu, Adam 1e-3', () => {
  it.each([
    ['builtin:breast-cancer', 0.94],
    ['builtin:wine', 0.92],
    ['builtin:iris', 0.9],
  ])('%s test accuracy ≥ %s', async (uri, floor) => {
    expect((await testMetrics(uri)).accuracy).toBeGreaterThanOrEqual(floor);
  }, 120_000);

  it('builtin:diabetes test R² ≥ 0.35', async () => {
    expect((await testMetrics('builtin:diabetes')).r2).toBeGreaterThanOrEqual(0.35);
  }, 120_000);
});
