import { internalRange, fromInternal, toInternal, type Assignment, type Parameter, type ParameterValue } from './parameters.ts';
import { categoricalParzen, numericParzen, type Density } from './parzen.ts';
import type { Random } from './prng.ts';
import { sampleTree } from './sample.ts';
import type { SearchSpace } from './search-space.ts';
import type { ObservedTrial } from './tried.ts';

/** How a TPE model is fitted. */
export interface TpeModelOptions {
  direction: 'maximize' | 'minimize';
  /** Number of good trials out of `n`; clamped to the succeeded ones. */
  gamma: (n: number) => number;
  /** Weight of each estimator's prior kernel against an observation's weight of 1. */
  priorWeight: number;
}

/** l(x) and g(x) of one parameter. */
interface ParameterModel {
  good: Density;
  bad: Density;
}

/** A point of the space and its acquisition score, Σ log l(x) − log g(x) over its parameters. */
export interface ScoredAssignment {
  assignment: Assignment;
  score: number;
}

/**
 * The good / bad split of a history, and per-parameter Parzen estimators fitted on it (the
 * univariate, tree-structured TPE of Bergstra et al. 2011, as Optuna's default TPESampler).
 * No maintained JavaScript library implements TPE, hence this one.
 *
 * Succeeded trials are ranked in the metric's direction and the best `gamma(n)` are good; the
 * rest and every failure are bad, so failures push proposals away from where they happened.
 * A parameter's estimators use only the trials in which it exists (layer 4's units only from
 * networks with at least 5 layers, momentum only from sgd trainings).
 */
export class TpeModel {
  /** Trials counted as good. */
  readonly goodCount: number;
  /** The worst metric value among the good trials; undefined when none succeeded. */
  readonly threshold: number | undefined;
  private readonly goodPoints: Assignment[];
  private readonly badPoints: Assignment[];
  private readonly models = new Map<string, ParameterModel>();

  constructor(
    private readonly space: SearchSpace,
    trials: readonly ObservedTrial[],
    private readonly options: TpeModelOptions,
  ) {
    const better = options.direction === 'maximize' ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;
    const succeeded = trials
      .map((trial, index) => ({ index, value: trial.value }))
      .filter((t): t is { index: number; value: number } => t.value !== undefined)
      .sort((a, b) => better(a.value, b.value) || a.index - b.index);
    this.goodCount = Math.max(0, Math.min(succeeded.length, Math.floor(options.gamma(trials.length))));
    const good = new Set(succeeded.slice(0, this.goodCount).map((t) => t.index));
    this.threshold = succeeded[this.goodCount - 1]?.value;
    // Both groups stay oldest first, which the recency weights rely on.
    const points = trials.map((trial) => space.encode(trial.configuration));
    this.goodPoints = points.filter((_, i) => good.has(i));
    this.badPoints = points.filter((_, i) => !good.has(i));
  }

  /**
   * The classic TPE proposal: for each parameter in tree order, `candidates` draws from l(x)
   * and the one with the largest l(x) / g(x).
   */
  best(random: Random, candidates: number): ScoredAssignment {
    let score = 0;
    const assignment = sampleTree(this.space, (parameter) => {
      let bestDraw = this.draw(parameter, random);
      for (let i = 1; i < candidates; i += 1) {
        const draw = this.draw(parameter, random);
        if (draw.score > bestDraw.score) bestDraw = draw;
      }
      score += bestDraw.score;
      return bestDraw.value;
    });
    return { assignment, score };
  }

  /** One joint draw from l(x) with its score: fallbacks when the best one is already tried. */
  sample(random: Random): ScoredAssignment {
    let score = 0;
    const assignment = sampleTree(this.space, (parameter) => {
      const draw = this.draw(parameter, random);
      score += draw.score;
      return draw.value;
    });
    return { assignment, score };
  }

  private draw(parameter: Parameter, random: Random): { value: ParameterValue; score: number } {
    const { good, bad } = this.model(parameter);
    const x = good.sample(random);
    const score = good.logPdf(x) - bad.logPdf(x);
    if (parameter.kind === 'categorical') return { value: parameter.choices[x]!, score };
    return { value: fromInternal(parameter, x), score };
  }

  private model(parameter: Parameter): ParameterModel {
    const cached = this.models.get(parameter.name);
    if (cached) return cached;
    const model = { good: this.fit(parameter, this.goodPoints), bad: this.fit(parameter, this.badPoints) };
    this.models.set(parameter.name, model);
    return model;
  }

  private fit(parameter: Parameter, points: readonly Assignment[]): Density {
    const values = points.map((point) => point[parameter.name]).filter((v) => v !== undefined);
    if (parameter.kind === 'categorical') {
      // A value the space does not offer (an activation left out by the options) says nothing
      // about the choices it does offer.
      const indices = values.map((v) => parameter.choices.indexOf(v)).filter((i) => i >= 0);
      return categoricalParzen(indices, parameter.choices.length, this.options.priorWeight);
    }
    const internal = values.filter((v): v is number => typeof v === 'number').map((v) => toInternal(parameter, v));
    return numericParzen(internal, internalRange(parameter), this.options.priorWeight);
  }
}
