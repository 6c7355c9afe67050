import { describe, expect, it } from 'vitest';
import { BOUNDS } from './bounds.ts';
import { formatConfiguration } from './format.ts';
import { parseModelConfiguration } from './parse.ts';
import type { ModelConfigurationInput } from './schema.ts';

const example: ModelConfigurationInput = {
  hiddenLayers: [
    { units: 64, activation: 'relu', dropout: 0.1 },
    { units: 32, activation: 'tanh', batchNorm: true },
  ],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
};

describe('formatConfiguration', () => {
  it('writes a configuration on one line, defaults left out', () => {
    expect(formatConfiguration(example)).toBe('[64 relu d0.1 | 32 tanh bn] adam lr=1e-3 bs=32 ep=100 p=10');
  });

  it('shows L2, sgd momentum and a non-default patience', () => {
    const text = formatConfiguration({
      ...example,
      hiddenLayers: [{ units: 128, activation: 'elu', l2: 0.0005 }],
      optimizer: 'sgd',
      momentum: 0.9,
      learningRate: 0.0123,
      patience: 5,
    });
    expect(text).toBe('[128 elu l2=5e-4] sgd m=0.9 lr=1.23e-2 bs=32 ep=100 p=5');
  });

  it('leaves out momentum that the optimizer ignores', () => {
    expect(formatConfiguration({ ...example, momentum: 0.9 })).not.toContain('m=');
  });

  it('writes runs of equal layers once with a count', () => {
    const layers = [
      { units: 256, activation: 'relu' as const },
      { units: 256, activation: 'relu' as const },
      { units: 256, activation: 'relu' as const },
      { units: 64, activation: 'relu' as const },
      { units: 256, activation: 'relu' as const },
    ];
    expect(formatConfiguration({ ...example, hiddenLayers: layers })).toMatch(
      /^\[3x256 relu \| 64 relu \| 256 relu\] /,
    );
  });

  it('tells apart configurations that differ in any field', () => {
    const variants: ModelConfigurationInput[] = [
      example,
      { ...example, learningRate: 0.002 },
      { ...example, batchSize: 64 },
      { ...example, maxEpochs: 50 },
      { ...example, patience: 20 },
      { ...example, optimizer: 'rmsprop' },
      { ...example, hiddenLayers: [{ units: 64, activation: 'relu', dropout: 0.2 }] },
      { ...example, hiddenLayers: [{ units: 64, activation: 'relu', dropout: 0.1, l2: 0.01 }] },
    ];
    expect(new Set(variants.map(formatConfiguration)).size).toBe(variants.length);
  });

  it('keeps a two-layer configuration using every option under 80 characters', () => {
    const typical = parseModelConfiguration({
      ...example,
      hiddenLayers: [
        { units: 256, activation: 'relu', dropout: 0.25, batchNorm: true },
        { units: 128, activation: 'swish', dropout: 0.1, l2: 0.0001 },
      ],
      learningRate: 0.000316,
      batchSize: 128,
    });
    expect(formatConfiguration(typical).length).toBeLessThan(80);
  });

  it('writes an eight-layer network of equal layers as briefly as a one-layer one', () => {
    const wide = { units: BOUNDS.units.max, activation: 'relu' as const };
    const one = { ...example, hiddenLayers: [wide] };
    const eight = { ...example, hiddenLayers: Array.from({ length: BOUNDS.hiddenLayers.max }, () => wide) };
    expect(formatConfiguration(eight).length).toBe(formatConfiguration(one).length + 2);
  });
});
