import { BOUNDS, canonicalize, safeParseModelConfiguration, type ModelConfiguration } from '@apo/model-config';
import { describe, expect, it } from 'vitest';
import { isActive } from './parameters.ts';
import { seededRandom } from './prng.ts';
import { samplePriorAssignment } from './sample.ts';
import { createSearchSpace, DEFAULT_SEARCH_RANGES } from './search-space.ts';

const space = createSearchSpace();
const random = seededRandom(5);
const samples = Array.from({ length: 500 }, () => space.decode(samplePriorAssignment(space, random)));

describe('createSearchSpace', () => {
  it('decodes every point to a valid canonical configuration', () => {
    for (const configuration of samples) {
      expect(safeParseModelConfiguration(configuration).success).toBe(true);
      expect(configuration).toEqual(canonicalize(configuration));
    }
  });

  it('covers the space: every depth, activation and optimizer, powers-of-two batch sizes, the default ranges', () => {
    expect(new Set(samples.map((c) => c.hiddenLayers.length))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(new Set(samples.flatMap((c) => c.hiddenLayers.map((l) => l.activation)))).toEqual(new Set(BOUNDS.activations));
    expect(new Set(samples.map((c) => c.optimizer))).toEqual(new Set(BOUNDS.optimizers));
    expect(new Set(samples.map((c) => c.batchSize))).toEqual(new Set([8, 16, 32, 64, 128, 256, 512, 1024]));
    for (const c of samples) {
      expect(c.maxEpochs).toBeGreaterThanOrEqual(DEFAULT_SEARCH_RANGES.maxEpochs.min);
      expect(c.maxEpochs).toBeLessThanOrEqual(DEFAULT_SEARCH_RANGES.maxEpochs.max);
      expect(c.patience).toBeGreaterThanOrEqual(DEFAULT_SEARCH_RANGES.patience.min);
      expect(c.patience).toBeLessThanOrEqual(DEFAULT_SEARCH_RANGES.patience.max);
    }
  });

  it('samples log-scaled parameters uniformly in their log', () => {
    const rates = samples.map((c) => Math.log(c.learningRate)).sort((a, b) => a - b);
    const geometricMiddle = (Math.log(BOUNDS.learningRate.min) + Math.log(BOUNDS.learningRate.max)) / 2;
    expect(Math.abs(rates[250]! - geometricMiddle)).toBeLessThan(0.6);
    const units = samples.flatMap((c) => c.hiddenLayers.map((l) => l.units));
    expect(units.filter((u) => u < 91).length / units.length).toBeGreaterThan(0.4);
  });

  it('gives momentum only to sgd, and L2 is exactly 0 about half the time', () => {
    for (const c of samples) if (c.optimizer !== 'sgd') expect(c.momentum).toBe(0);
    expect(samples.some((c) => c.optimizer === 'sgd' && c.momentum > 0)).toBe(true);
    const l2 = samples.flatMap((c) => c.hiddenLayers.map((l) => l.l2));
    const zero = l2.filter((x) => x === 0).length / l2.length;
    expect(zero).toBeGreaterThan(0.4);
    expect(zero).toBeLessThan(0.6);
    expect(Math.min(...l2.filter((x) => x > 0))).toBeGreaterThanOrEqual(DEFAULT_SEARCH_RANGES.l2.min);
  });

  it('encodes a configuration to exactly its existing parameters, and decodes it back', () => {
    for (const configuration of samples.slice(0, 100)) {
      const point = space.encode(configuration);
      const existing = space.parameters.filter((parameter) => isActive(parameter, point)).map((p) => p.name);
      expect(Object.keys(point).sort()).toEqual(existing.sort());
      expect(space.decode(point)).toEqual(configuration);
    }
  });

  it('encodes configurations from outside the space as they are, and a fit clamps them', () => {
    const outside: ModelConfiguration = canonicalize({
      hiddenLayers: [{ units: 100, activation: 'relu', l2: 0.05 }],
      optimizer: 'sgd',
      momentum: 0.9,
      learningRate: 0.01,
      batchSize: 100,
      maxEpochs: 500,
      patience: 50,
    });
    const point = space.encode(outside);
    expect(point['log2BatchSize']).toBeCloseTo(Math.log2(100), 10);
    expect(point['maxEpochs']).toBe(500);
    expect(point['momentum']).toBe(0.9);
    expect(point['layer0.l2Enabled']).toBe(true);
  });

  it('narrows to the options, and refuses options outside BOUNDS', () => {
    const narrow = createSearchSpace({
      hiddenLayers: { min: 2, max: 3 },
      activations: ['tanh'],
      optimizers: ['adam'],
      l2: null,
      batchSize: { min: 30, max: 70 },
    });
    const r = seededRandom(1);
    for (let i = 0; i < 100; i += 1) {
      const c = narrow.decode(samplePriorAssignment(narrow, r));
      expect([2, 3]).toContain(c.hiddenLayers.length);
      expect(c.hiddenLayers.every((l) => l.activation === 'tanh' && l.l2 === 0)).toBe(true);
      expect(c.optimizer).toBe('adam');
      expect([32, 64]).toContain(c.batchSize);
    }
    expect(() => createSearchSpace({ units: { min: 4, max: 64 } })).toThrow(RangeError);
    expect(() => createSearchSpace({ hiddenLayers: { min: 3, max: 2 } })).toThrow(RangeError);
    expect(() => createSearchSpace({ maxEpochs: { min: 10.5, max: 20 } })).toThrow(RangeError);
    expect(() => createSearchSpace({ activations: [] })).toThrow(RangeError);
    expect(() => createSearchSpace({ l2: { min: 0, max: 0.1 } })).toThrow(/log scale/);
    expect(() => createSearchSpace({ batchSize: { min: 33, max: 60 } })).toThrow(/power of two/);
  });

  it('keeps patience within maxEpochs when custom ranges overlap', () => {
    const overlapping = createSearchSpace({ maxEpochs: { min: 5, max: 10 }, patience: { min: 8, max: 20 } });
    const r = seededRandom(2);
    for (let i = 0; i < 100; i += 1) {
      const c = overlapping.decode(samplePriorAssignment(overlapping, r));
      expect(c.patience).toBeLessThanOrEqual(c.maxEpochs);
    }
  });
});
