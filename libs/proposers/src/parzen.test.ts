import { describe, expect, it } from 'vitest';
import { categoricalParzen, numericParzen, recencyWeights } from './parzen.ts';
import { seededRandom } from './prng.ts';

function integrate(f: (x: number) => number, low: number, high: number, steps = 20_000): number {
  const h = (high - low) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i += 1) sum += f(low + (i + 0.5) * h);
  return sum * h;
}

describe('numericParzen', () => {
  const range = { low: -2, high: 3 };

  it('is a density on its range: integrates to 1 and is 0 outside', () => {
    for (const observations of [[], [0.5], [-2, -1.9, 0, 2.9, 3]]) {
      const density = numericParzen(observations, range, 1);
      expect(integrate((x) => Math.exp(density.logPdf(x)), range.low, range.high)).toBeCloseTo(1, 3);
      expect(density.logPdf(3.01)).toBe(-Infinity);
    }
  });

  it('without observations is the broad prior, with them peaks at them', () => {
    const prior = numericParzen([], range, 1);
    expect(Math.abs(prior.logPdf(-1.5) - prior.logPdf(0.5))).toBeLessThan(0.5);
    const fitted = numericParzen([2, 2.1, 1.9], range, 1);
    expect(fitted.logPdf(2)).toBeGreaterThan(fitted.logPdf(-1.5) + 1);
  });

  it('samples inside the range, mostly near the observations', () => {
    const density = numericParzen([2, 2.1, 1.9, 2.05], range, 1);
    const random = seededRandom(3);
    const draws = Array.from({ length: 5000 }, () => density.sample(random));
    expect(draws.every((x) => x >= range.low && x <= range.high)).toBe(true);
    // Uniform would put 20 % there; with 4 observations the minimum bandwidth (range / 6) keeps
    // the kernels broad, so about twice that, not all.
    expect(draws.filter((x) => Math.abs(x - 2) < 0.5).length / draws.length).toBeGreaterThan(0.35);
  });

  it('is a point for an empty range (a parameter fixed by the options)', () => {
    const density = numericParzen([1], { low: 1, high: 1 }, 1);
    expect(density.sample(seededRandom(1))).toBe(1);
    expect(density.logPdf(1)).toBe(0);
  });
});

describe('categoricalParzen', () => {
  it('gives probabilities summing to 1, favouring observed choices, none zero', () => {
    const density = categoricalParzen([2, 2, 2, 0], 4, 1);
    const p = [0, 1, 2, 3].map((i) => Math.exp(density.logPdf(i)));
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 10);
    expect(p[2]).toBeGreaterThan(p[0]!);
    expect(p[0]).toBeGreaterThan(p[1]!);
    expect(Math.min(...p)).toBeGreaterThan(0);
    const prior = categoricalParzen([], 4, 1);
    expect(Math.exp(prior.logPdf(1))).toBeCloseTo(0.25, 10);
  });
});

describe('recencyWeights', () => {
  it('weighs up to 25 trials equally and fades older ones beyond', () => {
    expect(recencyWeights(10)).toEqual(new Array(10).fill(1));
    const w = recencyWeights(40);
    expect(w).toHaveLength(40);
    expect(w[0]).toBeCloseTo(1 / 40, 10);
    expect(w.slice(15)).toEqual(new Array(25).fill(1));
    expect([...w].sort((a, b) => a - b)).toEqual(w);
  });
});
