import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mersenne } from 'pure-rand/generator/mersenne';

// Seeded draws for splits, shuffling and dropout seeds: TensorFlow.js and Math.random cannot be
// seeded, and a split must come out the same on every machine. pure-rand gives the generator.

/** A seeded source of uniform numbers in [0, 1) and 32-bit unsigned integers. */
export interface Random {
  next(): number;
  nextUint32(): number;
}

/** A deterministic generator (Mersenne Twister): the same seed gives the same sequence. */
export function seededRandom(seed: number): Random {
  const rng = mersenne(seed | 0);
  return { next: () => uniformFloat64(rng), nextUint32: () => rng.next() >>> 0 };
}

/** Fisher–Yates shuffle in place. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const swap = items[i]!;
    items[i] = items[j]!;
    items[j] = swap;
  }
  return items;
}

/**
 * A seed for one purpose derived from a run's seed, so that, e.g., layer 2's initial weights
 * do not change when the number of layers or epochs does.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  let h = seed >>> 0;
  for (const part of path) h = seededRandom(h ^ Math.imul(part + 1, 0x9e3779b9)).nextUint32();
  return nonZero(h);
}

/**
 * A seed TensorFlow.js honours: it treats 0 as "no seed" and falls back to Math.random, which
 * would make that one run unrepeatable.
 */
export function nonZero(seed: number): number {
  return seed === 0 ? 1 : seed;
}

/** A uniformly random permutation of 0 … n-1 (Fisher–Yates). */
export function permutation(n: number, random: Random): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
