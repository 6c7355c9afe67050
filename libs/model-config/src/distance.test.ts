import { describe, expect, it } from 'vitest';
import { BOUNDS } from './bounds.ts';
import {
  configurationDistance,
  findNearDuplicate,
  isNearDuplicate,
  NEAR_DUPLICATE_DISTANCE,
} from './distance.ts';
import type { ModelConfigurationInput } from './schema.ts';

type Layer = ModelConfigurationInput['hiddenLayers'][number];

const layer: Layer = { units: 64, activation: 'relu' };

function net(layers: Layer[], rest: Partial<ModelConfigurationInput> = {}): ModelConfigurationInput {
  return {
    hiddenLayers: layers,
    optimizer: 'adam',
    learningRate: 0.001,
    batchSize: 32,
    maxEpochs: 100,
    ...rest,
  };
}

const base = net([layer, { units: 32, activation: 'tanh' }]);

function withLayer0(change: Partial<Layer>): ModelConfigurationInput {
  return { ...base, hiddenLayers: [{ ...layer, ...change }, ...base.hiddenLayers.slice(1)] };
}

const variants: ModelConfigurationInput[] = [
  base,
  withLayer0({ units: 128 }),
  withLayer0({ activation: 'elu', dropout: 0.3 }),
  { ...base, learningRate: 0.1, optimizer: 'sgd', momentum: 0.9 },
  { ...base, batchSize: 512, patience: 50 },
  net([layer]),
  net(Array.from({ length: 8 }, () => layer)),
];

describe('configurationDistance', () => {
  it('is 0 for the same configuration however it is written', () => {
    expect(configurationDistance(base, base)).toBe(0);
    const spelledOut = {
      ...base,
      patience: 10,
      momentum: 0.7,
      hiddenLayers: [{ ...layer, dropout: 0 }, base.hiddenLayers[1] as Layer],
    };
    expect(configurationDistance(base, spelledOut)).toBe(0);
    expect(isNearDuplicate(base, spelledOut)).toBe(true);
  });

  it('is symmetric and within [0, 1]', () => {
    for (const a of variants) {
      for (const b of variants) {
        const d = configurationDistance(a, b);
        expect(d).toBe(configurationDistance(b, a));
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1);
      }
    }
  });

  it('reaches 1 for opposite extremes', () => {
    const low = net([{ units: BOUNDS.units.min, activation: 'relu' }], {
      optimizer: 'adam',
      learningRate: BOUNDS.learningRate.min,
      batchSize: BOUNDS.batchSize.min,
      maxEpochs: BOUNDS.maxEpochs.min,
      patience: BOUNDS.patience.min,
    });
    const high = net(
      [
        {
          units: BOUNDS.units.max,
          activation: 'tanh',
          dropout: BOUNDS.dropout.max,
          batchNorm: true,
          l2: BOUNDS.l2.max,
        },
      ],
      {
        optimizer: 'sgd',
        momentum: BOUNDS.momentum.max,
        learningRate: BOUNDS.learningRate.max,
        batchSize: BOUNDS.batchSize.max,
        maxEpochs: BOUNDS.maxEpochs.max,
        patience: BOUNDS.patience.max,
      },
    );
    expect(configurationDistance(low, high)).toBeCloseTo(1, 12);
    const oneToEight = configurationDistance(net([layer]), net(Array.from({ length: 8 }, () => layer)));
    expect(oneToEight).toBeCloseTo(1, 12);
  });

  it('puts different layer counts far apart, farther the more they differ', () => {
    const one = net([layer]);
    const two = net([layer, layer]);
    const four = net([layer, layer, layer, layer]);
    expect(configurationDistance(one, two)).toBeGreaterThanOrEqual(0.5);
    expect(configurationDistance(one, four)).toBeGreaterThan(configurationDistance(one, two));
    expect(isNearDuplicate(one, two, 0.49)).toBe(false);
  });

  it('grows as a parameter moves further away', () => {
    const lr = (learningRate: number) => configurationDistance(base, { ...base, learningRate });
    expect(lr(0.002)).toBeGreaterThan(lr(0.0011));
    expect(lr(0.01)).toBeGreaterThan(lr(0.002));
    // Log scale: a factor counts the same in either direction.
    expect(lr(0.01)).toBeCloseTo(lr(0.0001), 12);
  });

  it('weighs a change in one of eight layers like one in a single layer', () => {
    const eight = net(Array.from({ length: 8 }, () => layer));
    const changed = { ...eight, hiddenLayers: [...eight.hiddenLayers.slice(0, 7), { ...layer, units: 128 }] };
    expect(configurationDistance(eight, changed)).toBeCloseTo(
      configurationDistance(net([layer]), net([{ ...layer, units: 128 }])),
      12,
    );
  });
});

describe('isNearDuplicate', () => {
  it('treats a 1 % learning-rate change as the same experiment', () => {
    expect(isNearDuplicate(base, { ...base, learningRate: 0.00101 })).toBe(true);
  });

  const sgd = { ...base, optimizer: 'sgd' as const };

  it.each<[string, ModelConfigurationInput, ModelConfigurationInput]>([
    ['units 64 vs 128', base, withLayer0({ units: 128 })],
    ['units 64 vs 128 in a one-layer network', net([layer]), net([{ ...layer, units: 128 }])],
    ['another activation', base, withLayer0({ activation: 'elu' })],
    ['batch norm', base, withLayer0({ batchNorm: true })],
    ['another optimizer', base, { ...base, optimizer: 'rmsprop' }],
    ['learning rate 0.001 vs 0.003', base, { ...base, learningRate: 0.003 }],
    ['batch size 32 vs 64', base, { ...base, batchSize: 64 }],
    ['dropout 0 vs 0.1', base, withLayer0({ dropout: 0.1 })],
    ['sgd momentum 0 vs 0.9', sgd, { ...sgd, momentum: 0.9 }],
  ])('tells apart %s', (_change, a, b) => {
    expect(isNearDuplicate(a, b)).toBe(false);
  });

  it('takes a custom threshold', () => {
    const other = withLayer0({ units: 128 });
    const d = configurationDistance(base, other);
    expect(isNearDuplicate(base, other, d)).toBe(true);
    expect(isNearDuplicate(base, other, d / 2)).toBe(false);
    expect(d).toBeGreaterThan(NEAR_DUPLICATE_DISTANCE);
  });
});

describe('findNearDuplicate', () => {
  const close = { ...base, learningRate: 0.00105 };
  const closer = { ...base, learningRate: 0.00101 };

  it('returns the closest tried configuration within the threshold, as given', () => {
    const tried = [withLayer0({ units: 512 }), close, closer];
    expect(findNearDuplicate(base, tried)).toBe(closer);
    expect(findNearDuplicate(base, [close])).toBe(close);
  });

  it('returns null when nothing tried is near', () => {
    expect(findNearDuplicate(base, [])).toBeNull();
    expect(findNearDuplicate(base, [withLayer0({ units: 128 }), net([layer])])).toBeNull();
    expect(findNearDuplicate(base, [close], 0)).toBeNull();
  });
});
