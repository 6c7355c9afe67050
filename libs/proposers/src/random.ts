import { DEFAULT_MAX_ATTEMPTS, positiveInteger } from './options.ts';
import { seededRandom } from './prng.ts';
import type { Proposal, ProposalRequest, Proposer } from './proposer.ts';
import { priorCandidates } from './sample.ts';
import { createSearchSpace, type SearchSpace } from './search-space.ts';
import { firstNew, TriedConfigurations } from './tried.ts';

/** Options of `RandomProposer`. */
export interface RandomProposerOptions {
  /** Where to sample; default `createSearchSpace()`. */
  searchSpace?: SearchSpace;
  /** Candidates drawn before giving up with `SearchSpaceExhaustedError`; default 1000. */
  maxAttempts?: number;
}

/**
 * Random search: every parameter uniform in its (log-)range or over its choices, redrawn while
 * the draw repeats the history. A baseline for TPE and the LLM, and TPE's startup phase.
 */
export class RandomProposer implements Proposer {
  readonly name = 'random';
  private readonly space: SearchSpace;
  private readonly maxAttempts: number;

  constructor(options: RandomProposerOptions = {}) {
    this.space = options.searchSpace ?? createSearchSpace();
    this.maxAttempts = positiveInteger('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS);
  }

  async propose(request: ProposalRequest): Promise<Proposal> {
    const tried = new TriedConfigurations(request.history);
    const { configuration, attempts } = firstNew(priorCandidates(this.space, seededRandom(request.seed)), tried, {
      proposer: this.name,
      maxAttempts: this.maxAttempts,
    });
    const redraws = attempts > 1 ? `; ${attempts - 1} earlier draws repeated tried configurations` : '';
    return { configuration, source: this.name, rationale: `uniform random sample of the search space${redraws}` };
  }
}
