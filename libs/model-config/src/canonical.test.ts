import { describe, expect, it } from 'vitest';
import { canonicalize, configurationHash } from './canonical.ts';
import { InvalidConfigurationError } from './invalid-configuration-error.ts';
import { parseModelConfiguration } from './parse.ts';
import type { ModelConfigurationInput } from './schema.ts';

const config: ModelConfigurationInput = {
  hiddenLayers: [
    { units: 64, activation: 'relu', dropout: 0.1 },
    { units: 32, activation: 'tanh', batchNorm: true },
  ],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
};

/** The same configuration written backwards, with every default spelled out. */
const reordered: ModelConfigurationInput = {
  patience: 10,
  maxEpochs: 100,
  batchSize: 32,
  momentum: 0,
  learningRate: 0.001,
  optimizer: 'adam',
  hiddenLayers: [
    { l2: 0, batchNorm: false, dropout: 0.1, activation: 'relu', units: 64 },
    { l2: 0, batchNorm: true, dropout: 0, activation: 'tanh', units: 32 },
  ],
};

function withLayer0(change: Record<string, unknown>): ModelConfigurationInput {
  const [first, ...rest] = config.hiddenLayers;
  const changed = { ...first, ...change } as ModelConfigurationInput['hiddenLayers'][number];
  return { ...config, hiddenLayers: [changed, ...rest] };
}

describe('canonicalize', () => {
  it('gives one representation whatever the key order or omitted defaults', () => {
    expect(JSON.stringify(canonicalize(reordered))).toBe(JSON.stringify(canonicalize(config)));
    expect(Object.keys(canonicalize(reordered))).toEqual(Object.keys(canonicalize(config)));
  });

  it('is a valid configuration and stays the same when canonicalised again', () => {
    const once = canonicalize(config);
    expect(parseModelConfiguration(once)).toEqual(once);
    expect(canonicalize(once)).toEqual(once);
  });

  it('rounds floats to six significant digits without leaving the bounds', () => {
    expect(canonicalize({ ...config, learningRate: 0.0010000001 }).learningRate).toBe(0.001);
    expect(canonicalize({ ...config, learningRate: 0.299999999 }).learningRate).toBe(0.3);
    expect(canonicalize(withLayer0({ dropout: 0.123456789 })).hiddenLayers[0]?.dropout).toBe(0.123457);
    const rounded = canonicalize({ ...config, learningRate: 0.299999999 });
    expect(() => parseModelConfiguration(rounded)).not.toThrow();
  });

  it('drops momentum unless the optimizer is sgd', () => {
    expect(canonicalize({ ...config, optimizer: 'rmsprop', momentum: 0.9 }).momentum).toBe(0);
    expect(canonicalize({ ...config, optimizer: 'sgd', momentum: 0.9 }).momentum).toBe(0.9);
  });

  it('rejects an invalid configuration', () => {
    expect(() => canonicalize({ ...config, batchSize: 4 })).toThrow(InvalidConfigurationError);
  });
});

describe('configurationHash', () => {
  const hash = configurationHash(config);

  it('is a sha256 hex digest', () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is equal for equal configurations', () => {
    expect(configurationHash(reordered)).toBe(hash);
    expect(configurationHash({ ...config, learningRate: 0.0010000001 })).toBe(hash);
    expect(configurationHash({ ...config, momentum: 0.5 })).toBe(hash);
  });

  it.each<[string, ModelConfigurationInput]>([
    ['one more unit', withLayer0({ units: 65 })],
    ['another activation', withLayer0({ activation: 'elu' })],
    ['more dropout', withLayer0({ dropout: 0.11 })],
    ['batch norm', withLayer0({ batchNorm: true })],
    ['l2', withLayer0({ l2: 1e-4 })],
    ['learning rate', { ...config, learningRate: 0.0011 }],
    ['optimizer', { ...config, optimizer: 'rmsprop' }],
    ['batch size', { ...config, batchSize: 64 }],
    ['max epochs', { ...config, maxEpochs: 101 }],
    ['patience', { ...config, patience: 11 }],
    ['layer order', { ...config, hiddenLayers: [...config.hiddenLayers].reverse() }],
    ['one layer less', { ...config, hiddenLayers: config.hiddenLayers.slice(0, 1) }],
  ])('differs for %s', (_change, changed) => {
    expect(configurationHash(changed)).not.toBe(hash);
  });

  it('tells sgd momentum values apart', () => {
    const sgd = { ...config, optimizer: 'sgd' as const };
    expect(configurationHash({ ...sgd, momentum: 0.9 })).not.toBe(configurationHash({ ...sgd, momentum: 0 }));
  });
});
