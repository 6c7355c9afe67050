import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mersenne } from 'pure-rand/generator/mersenne';

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A seeded stream (pure-rand's Mersenne Twister): the same seed gives the same proposals on every
 * platform and version, which `Math.random` cannot.
 */
export function seededRandom(seed: number): Random {
  const rng = mersenne(seed | 0);
  return () => uniformFloat64(rng);
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
