import { describe, expect, it } from 'vitest';
import { deriveSeed, permutation, seededRandom } from './random.ts';

describe('seeded randomness', () => {
  it('repeats a sequence for the same seed and not for another', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed).next);
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('shuffles into a permutation of every row', () => {
    const order = permutation(1000, seededRandom(1));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(order.slice(0, 10)).not.toEqual(Int32Array.from({ length: 10 }, (_, i) => i));
  });

  it('derives distinct non-zero seeds per purpose (tfjs ignores a seed of 0)', () => {
    const seeds = new Set(Array.from({ length: 100 }, (_, layer) => deriveSeed(0, layer)));
    expect(seeds.size).toBe(100);
    expect(seeds.has(0)).toBe(false);
  });
});
