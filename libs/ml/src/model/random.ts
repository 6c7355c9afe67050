// A seeded generator for shuffling and dropout seeds. TensorFlow.js draws both from Math.random,
// which cannot be seeded, and its seeded generator (seedrandom) is not a dependency of this
// package; mulberry32 is a few lines, fast and good enough for permutations.

/** A seeded source of uniform numbers in [0, 1) and 32-bit unsigned integers. */
export interface Random {
  next(): number;
  nextUint32(): number;
}

/** A deterministic generator: the same seed gives the same sequence. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { nextUint32, next: () => nextUint32() / 4294967296 };
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
