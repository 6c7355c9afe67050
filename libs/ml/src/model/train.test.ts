import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfiguration, type ModelConfigurationInput } from '@apo/model-config';
import { selectBackend } from './backend.ts';
import { buildModel } from './build.ts';
import { TrainingAbortedError } from './errors/training-aborted-error.ts';
import { TrainingDivergedError } from './errors/training-diverged-error.ts';
import { evaluateModel } from './evaluate.ts';
import { syntheticFeatures } from './synthetic.ts';
import { trainModel } from './train.ts';

const configuration = (overrides: Partial<ModelConfigurationInput> = {}) =>
  parseModelConfiguration({
    hiddenLayers: [{ units: 16, activation: 'relu' }],
    optimizer: 'adam',
    learningRate: 0.01,
    batchSize: 32,
    maxEpochs: 15,
    patience: 5,
    ...overrides,
  });

const binary = syntheticFeatures({
  task: 'classification',
  featureCount: 8,
  classCount: 2,
  rows: { train: 480, validation: 120, test: 200 },
  seed: 11,
});

beforeAll(async () => {
  await selectBackend();
});

describe('trainModel', () => {
  it('learns a classification task', async () => {
    const config = configuration();
    const model = buildModel(config, binary, { seed: 1 });
    const report = await trainModel(model, config, binary, { seed: 1 });
    expect(evaluateModel(model, binary.test, binary).accuracy).toBeGreaterThan(0.85);
    expect(report.history.at(-1)!.loss).toBeLessThan(report.history[0]!.loss);
    expect(report).toMatchObject({ backend: 'wasm', epochsRun: report.history.length });
    expect(report.samplesPerSecond).toBeGreaterThan(0);
  });

  it('gives identical losses for the same seed, dropout and batch normalisation included', async () => {
    const config = configuration({
      hiddenLayers: [{ units: 16, activation: 'relu', dropout: 0.3, batchNorm: true }],
      optimizer: 'rmsprop',
      maxEpochs: 4,
      patience: 4,
    });
    const run = async (seed: number) =>
      (await trainModel(buildModel(config, binary, { seed: 3 }), config, binary, { seed })).history;
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
  });

  it('stops early and restores the weights of the best epoch', async () => {
    // Few rows and a large, fast learner overfit quickly, so the validation loss turns up.
    const small = syntheticFeatures({
      task: 'classification',
      featureCount: 8,
      classCount: 3,
      rows: { train: 48, validation: 60, test: 0 },
      seed: 4,
    });
    const config = configuration({
      hiddenLayers: [{ units: 128, activation: 'relu' }],
      learningRate: 0.05,
      batchSize: 8,
      maxEpochs: 60,
      patience: 3,
    });
    const model = buildModel(config, small, { seed: 2 });
    const report = await trainModel(model, config, small, { seed: 2 });
    expect(report.stoppedEarly).toBe(true);
    expect(report.epochsRun).toBe(report.bestEpoch + config.patience);
    expect(report.bestValLoss).toBe(Math.min(...report.history.map((h) => h.valLoss)));
    expect(evaluateModel(model, small.validation, small).loss).toBeCloseTo(report.bestValLoss, 5);
  });

  it('trains a regression target such as 25–346 and predicts in its units', async () => {
    const diabetesLike = syntheticFeatures({
      task: 'regression',
      featureCount: 10,
      classCount: 0,
      rows: { train: 320, validation: 60, test: 60 },
      seed: 8,
    });
    const config = configuration({ maxEpochs: 30, patience: 10 });
    const model = buildModel(config, diabetesLike, { seed: 1 });
    const report = await trainModel(model, config, diabetesLike, { seed: 1 });
    const metrics = evaluateModel(model, diabetesLike.test, diabetesLike);
    expect(metrics.r2).toBeGreaterThan(0.8);
    expect(metrics.mae).toBeLessThan(30);
    expect(report.targetScaling!.mean).toBeGreaterThan(25);
    expect(report.targetScaling!.mean).toBeLessThan(346);
  });

  it('throws a non-retryable TrainingDivergedError when the loss becomes NaN', async () => {
    const unscaled = syntheticFeatures({
      task: 'regression',
      featureCount: 5,
      classCount: 0,
      rows: { train: 200, validation: 50, test: 0 },
      seed: 2,
      inputScale: 1e4,
    });
    const config = configuration({ optimizer: 'sgd', learningRate: 0.3, momentum: 0.9, batchSize: 16, maxEpochs: 5 });
    const model = buildModel(config, unscaled, { seed: 1 });
    const before = tf.memory().numTensors;
    const failure = trainModel(model, config, unscaled, { seed: 1 });
    await expect(failure).rejects.toBeInstanceOf(TrainingDivergedError);
    await expect(failure).rejects.toMatchObject({ code: 'NAN_LOSS', retryable: false });
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    { optimizer: 'adam' },
    { optimizer: 'rmsprop' },
    { optimizer: 'sgd' },
    { optimizer: 'sgd', momentum: 0.9 },
  ] as const)('leaves no tensors behind (%o)', async (optimizer) => {
    const config = configuration({
      hiddenLayers: [{ units: 8, activation: 'relu', batchNorm: true, dropout: 0.1, l2: 0.01 }],
      maxEpochs: 2,
      patience: 2,
      ...optimizer,
    });
    const model = buildModel(config, binary, { seed: 1 });
    const before = tf.memory().numTensors;
    await trainModel(model, config, binary, { seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports every epoch and stops with a retryable error when aborted', async () => {
    const config = configuration({ maxEpochs: 10, patience: 10 });
    const controller = new AbortController();
    const epochs: number[] = [];
    const model = buildModel(config, binary, { seed: 1 });
    const before = tf.memory().numTensors;
    const training = trainModel(model, config, binary, {
      seed: 1,
      signal: controller.signal,
      onEpoch: (e) => {
        epochs.push(e.epoch);
        if (e.epoch === 2) controller.abort(new Error('shutting down'));
      },
    });
    await expect(training).rejects.toBeInstanceOf(TrainingAbortedError);
    await expect(training).rejects.toMatchObject({ retryable: true });
    expect(epochs).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
