import { describe, expect, it } from 'vitest';
import { seededRandom, randomIndex, randomNormal, randomWeightedIndex } from './prng.ts';

describe('seededRandom', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const streamA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(streamA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(streamA);
  });

  it('draws uniformly in [0, 1)', () => {
    const random = seededRandom(1);
    const draws = Array.from({ length: 20_000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeCloseTo(0.5, 1.5);
    const lowTenth = draws.filter((x) => x < 0.1).length / draws.length;
    expect(lowTenth).toBeGreaterThan(0.09);
    expect(lowTenth).toBeLessThan(0.11);
  });
});

describe('derived draws', () => {
  it('draw indices in range, normals with mean 0 and sd 1, and weighted indices by weight', () => {
    const random = seededRandom(9);
    const indices = Array.from({ length: 1000 }, () => randomIndex(random, 3));
    expect(new Set(indices)).toEqual(new Set([0, 1, 2]));
    const normals = Array.from({ length: 20_000 }, () => randomNormal(random));
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const sd = Math.sqrt(normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    const weighted = Array.from({ length: 10_000 }, () => randomWeightedIndex(random, [1, 0, 3]));
    expect(weighted.filter((i) => i === 1)).toHaveLength(0);
    expect(weighted.filter((i) => i === 2).length / weighted.length).toBeCloseTo(0.75, 1);
  });
});
