import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDirArtifactStore } from '@apo/artifacts';
import { parseModelConfiguration } from '@apo/model-config';
import { loadModel, saveModel } from './artifact-io.ts';
import { selectBackend } from './backend.ts';
import { buildModel } from './build.ts';
import { predictSplit } from './evaluate.ts';
import { syntheticFeatures } from './synthetic.ts';
import { trainModel } from './train.ts';

let dir: string;
let artifacts: LocalDirArtifactStore;

beforeAll(async () => {
  await selectBackend();
  dir = await mkdtemp(join(tmpdir(), 'apo-ml-'));
  artifacts = new LocalDirArtifactStore({ dir });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveModel / loadModel', () => {
  it('round-trips a trained model that then predicts exactly the same values', async () => {
    const features = syntheticFeatures({
      task: 'classification',
      featureCount: 7,
      classCount: 3,
      rows: { train: 200, validation: 50, test: 80 },
      seed: 5,
    });
    const config = parseModelConfiguration({
      hiddenLayers: [
        { units: 12, activation: 'elu', batchNorm: true, dropout: 0.2, l2: 0.001 },
        { units: 8, activation: 'swish' },
      ],
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 16,
      maxEpochs: 3,
      patience: 3,
    });
    const model = buildModel(config, features, { seed: 9 });
    await trainModel(model, config, features, { seed: 9 });
    const before = predictSplit(model, features.test, features);

    const uri = await saveModel(model, artifacts, 'models/p1/c1');
    expect(uri).toBe(artifacts.uriFor('models/p1/c1/model.json'));
    expect(await artifacts.list('models/p1/c1/')).toEqual(['models/p1/c1/model.json', 'models/p1/c1/weights.bin']);
    const json = JSON.parse((await artifacts.get(uri)).toString('utf8'));
    expect(json.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: expect.any(Array) }]);

    const loaded = await loadModel(artifacts, uri);
    const after = predictSplit(loaded, features.test, features);
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });
});
