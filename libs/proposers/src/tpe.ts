import type { ModelConfiguration } from '@apo/model-config';
import { STARTUP_CONFIGURATIONS } from './defaults.ts';
import { DEFAULT_MAX_ATTEMPTS, positiveInteger } from './options.ts';
import { seededRandom, type Random } from './prng.ts';
import type { Proposal, ProposalRequest, Proposer } from './proposer.ts';
import { priorCandidates } from './sample.ts';
import { createSearchSpace, type SearchSpace } from './search-space.ts';
import { TpeModel } from './tpe-model.ts';
import { firstNew, TriedConfigurations } from './tried.ts';

/**
 * Optuna's default split: the best 10 % of the trials, at most 25, are good. With the budgets
 * this product runs (tens of trainings) that is 1–5 good trials, so l(x) follows the very best.
 */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Options of `TpeProposer`; the defaults are Optuna's. */
export interface TpeProposerOptions {
  /** Where to search; default `createSearchSpace()`. */
  searchSpace?: SearchSpace;
  /** Trials the history needs before TPE models it; with fewer it samples at random. Default 10. */
  startupTrials?: number;
  /** Draws from l(x) per parameter, of which the best l(x) / g(x) is kept. Default 24. */
  candidates?: number;
  /** Number of good trials out of `n`. Default `defaultGamma`. */
  gamma?: (n: number) => number;
  /** Weight of each estimator's prior kernel against an observation's 1. Default 1. */
  priorWeight?: number;
  /** Candidates looked at before giving up with `SearchSpaceExhaustedError`; default 1000. */
  maxAttempts?: number;
  /**
   * Proposed first, in order, while the history is shorter than `startupTrials` and they are
   * untried; default `STARTUP_CONFIGURATIONS`. Pass `[]` for a purely random startup.
   */
  startupConfigurations?: readonly ModelConfiguration[];
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), like Optuna's default TPESampler:
 * the history (every pipeline on the dataset: the warm start) is split into good and bad
 * trials; per parameter, l(x) is fitted on the good ones and g(x) on the bad ones; the proposal
 * takes, parameter by parameter, the best of `candidates` draws from l by l(x) / g(x).
 *
 * It never proposes a tried configuration or a near-duplicate: when the best one is, it falls
 * back to joint draws from l (best score first, in batches of `candidates`), then to the prior.
 */
export class TpeProposer implements Proposer {
  readonly name = 'tpe';
  private readonly space: SearchSpace;
  private readonly startupTrials: number;
  private readonly candidates: number;
  private readonly gamma: (n: number) => number;
  private readonly priorWeight: number;
  private readonly maxAttempts: number;
  private readonly startupConfigurations: readonly ModelConfiguration[];

  constructor(options: TpeProposerOptions = {}) {
    this.space = options.searchSpace ?? createSearchSpace();
    this.startupTrials = positiveInteger('startupTrials', options.startupTrials, 10);
    this.candidates = positiveInteger('candidates', options.candidates, 24);
    this.gamma = options.gamma ?? defaultGamma;
    this.priorWeight = options.priorWeight ?? 1;
    if (!(this.priorWeight > 0) || !Number.isFinite(this.priorWeight)) {
      throw new RangeError(`priorWeight must be a positive number (got ${this.priorWeight})`);
    }
    this.maxAttempts = positiveInteger('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS);
    // The defaults may lie outside a custom search space, so a custom space starts at random.
    this.startupConfigurations = options.startupConfigurations ?? (options.searchSpace ? [] : STARTUP_CONFIGURATIONS);
  }

  async propose(request: ProposalRequest): Promise<Proposal> {
    const tried = new TriedConfigurations(request.history);
    const random = seededRandom(request.seed);
    const limits = { proposer: this.name, maxAttempts: this.maxAttempts };
    const n = tried.trials.length;

    if (n < this.startupTrials) {
      const { configuration, attempts } = firstNew(
        this.startupCandidates(random),
        tried,
        limits,
      );
      const curated = attempts <= this.startupConfigurations.length;
      return {
        configuration,
        source: this.name,
        rationale: `${curated ? 'a well-tried default' : 'random startup'}: ${n} of ${this.startupTrials} trials needed before TPE models the history`,
      };
    }

    const model = new TpeModel(this.space, tried.trials, {
      direction: request.direction,
      gamma: this.gamma,
      priorWeight: this.priorWeight,
    });
    const { configuration, attempts } = firstNew(this.candidatesFrom(model, random), tried, limits);
    const good =
      model.threshold === undefined
        ? 'none succeeded, steering away from the failures'
        : `${model.goodCount} good: ${request.metric} ${request.direction === 'maximize' ? '>=' : '<='} ${model.threshold.toPrecision(4)}`;
    const fallback = attempts > 1 ? `; the ${attempts - 1} better-scored candidates were already tried` : '';
    return {
      configuration,
      source: this.name,
      rationale: `TPE over ${n} trials (${good}); best l(x)/g(x) of ${this.candidates} draws per parameter${fallback}`,
    };
  }

  private *startupCandidates(random: Random): Generator<ModelConfiguration> {
    yield* this.startupConfigurations;
    yield* priorCandidates(this.space, random);
  }

  private *candidatesFrom(model: TpeModel, random: Random): Generator<ModelConfiguration> {
    yield this.space.decode(model.best(random, this.candidates).assignment);
    // Half the attempts from l(x): near the good trials, but jointly drawn, so more varied than
    // the per-parameter best. Then the prior, in case the good region is used up.
    const batches = Math.ceil(this.maxAttempts / 2 / this.candidates);
    for (let batch = 0; batch < batches; batch += 1) {
      const draws = Array.from({ length: this.candidates }, () => model.sample(random));
      draws.sort((a, b) => b.score - a.score);
      for (const draw of draws) yield this.space.decode(draw.assignment);
    }
    yield* priorCandidates(this.space, random);
  }
}
