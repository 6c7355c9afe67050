import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '@apo/messages';
import { parseModelConfiguration, type ModelConfigurationInput } from '@apo/model-config';
import { selectBackend } from './backend.ts';
import { buildModel, lossFor, parameterCount } from './build.ts';

const config = (overrides: Partial<ModelConfigurationInput> = {}) =>
  parseModelConfiguration({
    hiddenLayers: [
      { units: 16, activation: 'relu' },
      { units: 8, activation: 'tanh', batchNorm: true, dropout: 0.2, l2: 0.01 },
    ],
    optimizer: 'adam',
    learningRate: 0.001,
    batchSize: 32,
    maxEpochs: 10,
    ...overrides,
  });

const output = (model: tf.LayersModel) => model.layers.at(-1)!.getConfig() as { units: number; activation: string };

beforeAll(async () => {
  await selectBackend();
});

describe('buildModel', () => {
  it('ends in the output the task needs', () => {
    const binary = buildModel(config(), { featureCount: 4, task: 'classification', classCount: 2 }, { seed: 1 });
    const multi = buildModel(config(), { featureCount: 4, task: 'classification', classCount: 5 }, { seed: 1 });
    const regression = buildModel(config(), { featureCount: 4, task: 'regression', classCount: 0 }, { seed: 1 });
    expect(output(binary)).toMatchObject({ units: 1, activation: 'sigmoid' });
    expect(output(multi)).toMatchObject({ units: 5, activation: 'softmax' });
    expect(output(regression)).toMatchObject({ units: 1, activation: 'linear' });
    expect(lossFor({ featureCount: 4, task: 'classification', classCount: 2 })).toBe('binaryCrossentropy');
    expect(lossFor({ featureCount: 4, task: 'classification', classCount: 5 })).toBe('sparseCategoricalCrossentropy');
    expect(lossFor({ featureCount: 4, task: 'regression', classCount: 0 })).toBe('meanSquaredError');
  });

  it('stacks dense, batch normalisation and dropout as configured, with L2 where asked', () => {
    const model = buildModel(config(), { featureCount: 4, task: 'classification', classCount: 3 }, { seed: 1 });
    const classes = model.layers.map((l) => l.getClassName());
    expect(classes).toEqual(['Dense', 'Dense', 'BatchNormalization', 'Dropout', 'Dense']);
    const [first, second] = model.layers as unknown as { getConfig(): { kernelRegularizer: unknown } }[];
    expect(first!.getConfig().kernelRegularizer).toBeNull();
    expect(second!.getConfig().kernelRegularizer).toMatchObject({ config: { l2: 0.01 } });
    // 4·16+16 + 16·8+8 + 4·8 (γ, β, moving mean, moving variance) + 8·3+3 = 80 + 136 + 32 + 27
    expect(parameterCount(model)).toBe(275);
  });

  it('starts from the same weights for the same seed and from others for another seed', () => {
    const spec = { featureCount: 6, task: 'classification', classCount: 2 } as const;
    const weights = (seed: number) =>
      buildModel(config(), spec, { seed })
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
    expect(weights(7)).toEqual(weights(7));
    expect(weights(7)[0]).not.toEqual(weights(8)[0]);
  });

  it('rejects data it cannot build a model for', () => {
    const noFeatures = { featureCount: 0, task: 'regression', classCount: 0 } as const;
    const oneClass = { featureCount: 3, task: 'classification', classCount: 1 } as const;
    expect(() => buildModel(config(), noFeatures, { seed: 1 })).toThrow(InvalidInputError);
    expect(() => buildModel(config(), oneClass, { seed: 1 })).toThrow(InvalidInputError);
  });
});
