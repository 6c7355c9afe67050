import { randomNormal, randomWeightedIndex, type Random } from './prng.ts';

/** A one-dimensional distribution a TPE model samples from and scores with. */
export interface Density {
  /** A draw: a value in the modelled space, or a choice index for a categorical one. */
  sample(random: Random): number;
  /** Natural log of the density (or probability, for a categorical) at `x`. */
  logPdf(x: number): number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Abramowitz & Stegun 7.1.26: error below 1.5e-7, plenty where it is used (see `truncated`). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0));
}

/**
 * Weights of observations by age, oldest first (Optuna's default): all equal up to 25, beyond
 * that the 25 newest keep weight 1 and older ones fade linearly towards 1/n. The history spans
 * every pipeline on the dataset, so old trials should inform without dominating.
 */
export function recencyWeights(n: number): number[] {
  if (n <= 25) return Array.from({ length: n }, () => 1);
  const ramp = n - 25;
  return Array.from({ length: n }, (_, i) => (i >= ramp ? 1 : 1 / n + ((1 - 1 / n) * i) / Math.max(1, ramp - 1)));
}

interface Component {
  mu: number;
  sigma: number;
  /** log(weight) - log(sigma) - log(mass of the Gaussian inside [low, high]) */
  logScale: number;
}

/**
 * Neighbour-distance bandwidths (Optuna's univariate rule): each kernel is as wide as the larger
 * gap to its sorted neighbours (the range ends count as neighbours), except the outermost ones,
 * which use their inner gap. Clipped to [range / min(100, kernels), range]: a tight cluster
 * still gets a usable width, and nothing is wider than the prior.
 */
function bandwidths(mus: readonly number[], low: number, high: number): number[] {
  const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]!);
  const sorted = [low, ...order.map((i) => mus[i]!), high];
  const sigmas = new Array<number>(mus.length);
  order.forEach((original, j) => {
    const k = j + 1;
    let sigma = Math.max(sorted[k]! - sorted[k - 1]!, sorted[k + 1]! - sorted[k]!);
    if (sorted.length >= 4 && j === 0) sigma = sorted[2]! - sorted[1]!;
    if (sorted.length >= 4 && j === mus.length - 1) sigma = sorted[k]! - sorted[k - 1]!;
    sigmas[original] = sigma;
  });
  const range = high - low;
  const min = range / Math.min(100, 1 + mus.length);
  return sigmas.map((s) => Math.min(range, Math.max(min, s)));
}

/**
 * Parzen estimator of a numeric parameter: a mixture of Gaussians truncated to [low, high],
 * one per observation plus a prior one (centre of the range, as wide as the range) that keeps
 * every region reachable.
 * `observations` are in the modelled (log-)space and inside the range, oldest first.
 */
export function numericParzen(
  observations: readonly number[],
  range: { low: number; high: number },
  priorWeight: number,
): Density {
  const { low, high } = range;
  if (!(high > low)) return { sample: () => low, logPdf: () => 0 };
  const mus = [...observations, (low + high) / 2];
  const sigmas = bandwidths(mus, low, high);
  sigmas[sigmas.length - 1] = high - low;
  const weights = [...recencyWeights(observations.length), priorWeight];
  const total = weights.reduce((sum, w) => sum + w, 0);
  // Each kernel is centred inside the range and at most as wide as it, so at least 34 % of its
  // mass lies inside: the normalisation never divides by a tail probability.
  const components: Component[] = mus.map((mu, i) => {
    const sigma = sigmas[i]!;
    const mass = normalCdf((high - mu) / sigma) - normalCdf((low - mu) / sigma);
    return { mu, sigma, logScale: Math.log(weights[i]! / total) - Math.log(sigma) - Math.log(mass) };
  });
  return {
    sample(random) {
      const { mu, sigma } = components[randomWeightedIndex(random, weights)]!;
      // Rejection keeps the draw exactly truncated-normal; with at least 34 % acceptance, the
      // clamp after 100 misses never matters in practice.
      for (let i = 0; i < 100; i += 1) {
        const x = mu + sigma * randomNormal(random);
        if (x >= low && x <= high) return x;
      }
      return Math.min(high, Math.max(low, mu));
    },
    logPdf(x) {
      if (x < low || x > high) return -Infinity;
      return logSumExp(components.map((c) => c.logScale - LOG_SQRT_2PI - 0.5 * ((x - c.mu) / c.sigma) ** 2));
    },
  };
}

/**
 * Parzen estimator of a categorical parameter (Optuna's): each observation contributes a kernel
 * that puts weight 1 on its choice and `priorWeight / (n + 1)` on every choice, plus a uniform
 * prior kernel, mixed with the recency weights. No choice ever has probability 0.
 * `observations` are choice indices, oldest first.
 */
export function categoricalParzen(observations: readonly number[], choices: number, priorWeight: number): Density {
  const kernels = observations.length + 1;
  const smoothing = priorWeight / kernels;
  const weights = [...recencyWeights(observations.length), priorWeight];
  const total = weights.reduce((sum, w) => sum + w, 0);
  const probabilities = new Array<number>(choices).fill(0);
  weights.forEach((weight, k) => {
    const observed = observations[k];
    const rowTotal = smoothing * choices + (observed === undefined ? 0 : 1);
    for (let c = 0; c < choices; c += 1) {
      const cell = smoothing + (c === observed ? 1 : 0);
      probabilities[c]! += ((weight / total) * cell) / rowTotal;
    }
  });
  const logs = probabilities.map((p) => Math.log(p));
  return {
    sample: (random) => randomWeightedIndex(random, probabilities),
    logPdf: (x) => logs[x] ?? -Infinity,
  };
}
