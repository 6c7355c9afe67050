/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * Seeded generator (mulberry32). Handwritten rather than a dependency: it is ten lines of
 * public-domain code, and what matters here is that the same seed gives the same stream on
 * every platform and version, which `Math.random` cannot. Its 2^32 period is far more than a
 * proposal draws (a few thousand numbers).
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomIndex(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** A standard normal draw (Box–Muller; one of the pair is dropped to keep the stream simple). */
export function randomNormal(random: Random): number {
  // 1 - u is in (0, 1], so the logarithm is finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An index drawn with probability proportional to `weights` (non-negative, not all zero). */
export function randomWeightedIndex(random: Random, weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let threshold = random() * total;
  for (let i = 0; i < weights.length; i += 1) {
    threshold -= weights[i] ?? 0;
    if (threshold < 0) return i;
  }
  return weights.length - 1;
}
