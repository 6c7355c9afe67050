import { describe, expect, it } from 'vitest';
import { deriveSeed, permutation, seededRandom, shuffle } from './random.ts';

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

describe('seeded draws', () => {
  it('are the same for a seed, differ across seeds, and stay in [0, 1)', () => {
    const draws = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 1000 }, () => r.next());
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
    expect(draws(0).every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = draws(7).reduce((a, b) => a + b, 0) / 1000;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('shuffle keeps every item and depends on the seed only', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffle([...items], seededRandom(1));
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(shuffle([...items], seededRandom(1))).toEqual(a);
    expect(shuffle([...items], seededRandom(2))).not.toEqual(a);
  });
});
