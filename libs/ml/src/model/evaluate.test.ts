import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '@apo/messages';
import { parseModelConfiguration } from '@apo/model-config';
import { selectBackend } from './backend.ts';
import { buildModel } from './build.ts';
import { TrainingDivergedError } from './errors/training-diverged-error.ts';
import { evaluateModel, predictSplit } from './evaluate.ts';
import { syntheticFeatures } from './synthetic.ts';
import { trainModel } from './train.ts';

const config = parseModelConfiguration({
  hiddenLayers: [{ units: 16, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 32,
  maxEpochs: 8,
  patience: 8,
});

beforeAll(async () => {
  await selectBackend();
});

describe('evaluateModel', () => {
  it.each([2, 4])('gives schema-valid classification metrics for %i classes', async (classCount) => {
    const features = syntheticFeatures({
      task: 'classification',
      featureCount: 6,
      classCount,
      rows: { train: 300, validation: 90, test: 0 },
      seed: classCount,
    });
    const model = buildModel(config, features, { seed: 1 });
    const report = await trainModel(model, config, features, { seed: 1 });
    const metrics = evaluateModel(model, features.validation, features);
    expect(Metrics.parse(metrics)).toEqual(metrics);
    expect(metrics.confusionMatrix!.size).toBe(classCount);
    expect(metrics.confusionMatrix!.values.reduce((a, b) => a + b)).toBe(90);
    expect('roc_auc' in metrics).toBe(classCount === 2);
    // The loss is the one training watched: the restored best epoch's validation loss.
    expect(metrics.loss).toBeCloseTo(report.bestValLoss, 5);
  });

  it('gives regression metrics in the target units', async () => {
    const features = syntheticFeatures({
      task: 'regression',
      featureCount: 6,
      classCount: 0,
      rows: { train: 300, validation: 60, test: 60 },
      seed: 3,
    });
    const model = buildModel(config, features, { seed: 1 });
    await trainModel(model, config, features, { seed: 1 });
    const metrics = evaluateModel(model, features.test, features);
    expect(Metrics.parse(metrics)).toEqual(metrics);
    expect(metrics.rmse).toBeCloseTo(Math.sqrt(metrics.loss!), 6);
    expect(metrics.confusionMatrix).toBeUndefined();
    const predictions = predictSplit(model, features.test, features);
    expect(Math.min(...predictions)).toBeGreaterThan(0);
    expect(Math.max(...predictions)).toBeLessThan(400);
  });

  it('refuses to report metrics for a model that predicts NaN', () => {
    const features = syntheticFeatures({
      task: 'classification',
      featureCount: 3,
      classCount: 2,
      rows: { train: 0, validation: 10, test: 0 },
      seed: 1,
    });
    const model = buildModel(config, features, { seed: 1 });
    model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, NaN)));
    expect(() => evaluateModel(model, features.validation, features)).toThrow(TrainingDivergedError);
  });
});
