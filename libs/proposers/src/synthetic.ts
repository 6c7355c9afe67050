import type { ModelConfiguration } from '@apo/model-config';
import type { Proposer, TrialRecord } from './proposer.ts';

/**
 * A cheap stand-in for training, with a known optimum over the real search space, for tests
 * and benchmarks of proposers. Not a model of any real dataset.
 */
export interface SyntheticObjective {
  readonly name: string;
  readonly metric: string;
  readonly direction: 'maximize' | 'minimize';
  /** The metric a training of `configuration` would reach, or null for a failed training. */
  evaluate(configuration: ModelConfiguration): number | null;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * Accuracy-like, maximised, at most 1: best at learning rate 1e-3, about 128 units per layer,
 * 3 layers, dropout 0.1, relu layers and adam. Learning rates above 0.1 diverge (fail).
 */
export const accuracyObjective: SyntheticObjective = {
  name: 'accuracy-like',
  metric: 'accuracy',
  direction: 'maximize',
  evaluate(c) {
    if (c.learningRate > 0.1) return null;
    const layers = c.hiddenLayers;
    const d2 =
      (Math.log10(c.learningRate) + 3) ** 2 +
      (mean(layers.map((l) => Math.log2(l.units))) - 7) ** 2 / 4 +
      (layers.length - 3) ** 2 / 4 +
      (mean(layers.map((l) => l.dropout)) - 0.1) ** 2 / 0.04;
    const relu = layers.filter((l) => l.activation === 'relu').length / layers.length;
    return 0.5 + 0.4 * Math.exp(-d2 / 4) + 0.05 * relu + (c.optimizer === 'adam' ? 0.05 : 0);
  },
};

/**
 * RMSE-like, minimised, at least 0.9: best with one tanh layer of 512 units, sgd at learning
 * rate 1e-2 with momentum 0.9, batch size 64 and L2 1e-4. More than 2048 units in total fail
 * (out of memory).
 */
export const rmseObjective: SyntheticObjective = {
  name: 'rmse-like',
  metric: 'rmse',
  direction: 'minimize',
  evaluate(c) {
    const layers = c.hiddenLayers;
    if (layers.reduce((sum, l) => sum + l.units, 0) > 2048) return null;
    const first = layers[0]!;
    const d2 =
      (Math.log10(c.learningRate) + 2) ** 2 +
      (Math.log2(first.units) - 9) ** 2 / 4 +
      (layers.length - 1) ** 2 / 2 +
      (Math.log2(c.batchSize) - 6) ** 2 / 4 +
      (c.optimizer === 'sgd' ? ((c.momentum - 0.9) / 0.3) ** 2 : 2) +
      (first.l2 > 0 ? (Math.log10(first.l2) + 4) ** 2 / 4 : 1);
    const tanh = layers.filter((l) => l.activation === 'tanh').length / layers.length;
    return 1 + 2 * (1 - Math.exp(-d2 / 6)) - 0.1 * tanh;
  },
};

/**
 * Runs `trials` iterations of propose → evaluate, feeding each result back into the history,
 * as a pipeline does; each iteration gets its own seed derived from `seed`.
 */
export async function runSearch(
  proposer: Proposer,
  objective: SyntheticObjective,
  options: { trials: number; seed: number; history?: readonly TrialRecord[] },
): Promise<TrialRecord[]> {
  const history: TrialRecord[] = [...(options.history ?? [])];
  for (let i = 0; i < options.trials; i += 1) {
    const { configuration, source } = await proposer.propose({
      metric: objective.metric,
      direction: objective.direction,
      history,
      seed: options.seed * 1009 + i,
    });
    const value = objective.evaluate(configuration);
    history.push(
      value === null
        ? { configuration, status: 'failed', source }
        : { configuration, status: 'succeeded', value, source },
    );
  }
  return history;
}

/** The best value among the first `k` trials; the worst possible value when none succeeded. */
export function bestAfter(history: readonly TrialRecord[], k: number, direction: 'maximize' | 'minimize'): number {
  const values = history
    .slice(0, k)
    .filter((t) => t.status === 'succeeded' && t.value !== undefined)
    .map((t) => t.value!);
  if (direction === 'maximize') return values.length ? Math.max(...values) : -Infinity;
  return values.length ? Math.min(...values) : Infinity;
}

/** The `q` quantile (0..1) of `values`, linearly interpolated. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] ?? NaN;
  const b = sorted[upper] ?? a;
  return a + (b - a) * (position - lower);
}
