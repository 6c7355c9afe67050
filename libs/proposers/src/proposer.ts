import type { ModelConfiguration } from '@apo/model-config';

/**
 * One earlier training, as a proposer sees it. Structurally a `HistoryEntry` of
 * `@apo/model-config`, so the same array can feed `summarizeHistory` for an LLM prompt.
 */
export interface TrialRecord {
  /** The configuration trained. An entry that is not valid under the current schema is ignored. */
  configuration: ModelConfiguration;
  /** A succeeded training without a finite `value` (a diverged loss) counts as failed. */
  status: 'succeeded' | 'failed';
  /** The validation value of the request's metric, when the training succeeded. */
  value?: number;
  /** Who proposed it (`llm`, `tpe`, `random`, ...); informative only. */
  source?: string;
  /** Why the training failed, when it did; an LLM proposer shows it so it can avoid the cause. */
  error?: string;
}

/** What a proposer is asked: the next configuration to train, given everything tried so far. */
export interface ProposalRequest {
  /** Metric the KPI is judged on; `value` in `history` is this metric. */
  metric: string;
  /** Which way the metric is better. */
  direction: 'maximize' | 'minimize';
  /**
   * Everything tried on this dataset (any pipeline), oldest first. It is both the warm start
   * and the duplicate list: no proposal repeats or nearly repeats an entry.
   */
  history: readonly TrialRecord[];
  /**
   * Deterministic per pipeline and iteration, so a redelivered request proposes the same. An
   * integer; offline proposers use its low 32 bits.
   */
  seed: number;
  /** Optional extras an LLM proposer uses (dataset profile, summary text); offline ones ignore them. */
  context?: Record<string, unknown>;
}

/** A configuration to train next, and where it came from. */
export interface Proposal {
  /** In canonical form (`canonicalize`), so its hash is the one the store records. */
  configuration: ModelConfiguration;
  // `string & {}` keeps the known names as editor suggestions without closing the set.
  /** The proposer that chose it; stored with the configuration. */
  source: 'tpe' | 'random' | (string & {});
  /** A short human-readable reason, shown in status output and stored with the configuration. */
  rationale?: string;
  /**
   * What the LLM calls behind this proposal cost, summed over every call made for it (repairs
   * included, and calls whose answer was rejected before a fallback). Absent when no LLM was asked.
   */
  llm?: ProposalLlmUsage;
  /** Why the proposal is not what was asked for (a fallback, a repaired answer); stored with it. */
  note?: string;
}

/** Usage of the LLM behind one proposal; stored with the configuration and added to the pipeline's tokens. */
export interface ProposalLlmUsage {
  /** The model that answered (as the API reports it). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Wall time of all the calls, retries and waits included. */
  latencyMs: number;
}

/**
 * The proposer port: picks the next configuration from the history of earlier ones. Every
 * adapter passes `proposerContractSuite` (`@apo/proposers/testing`).
 */
export interface Proposer {
  /** Short stable name (`tpe`, `random`, `llm`), used in logs and as the default `source`. */
  readonly name: string;
  /**
   * The next configuration to try: valid under the schema, neither a duplicate nor a
   * near-duplicate (`findNearDuplicate`) of any valid configuration in `request.history`, and
   * the same for the same request.
   * @throws SearchSpaceExhaustedError (non-retryable) when no new configuration can be found.
   */
  propose(request: ProposalRequest): Promise<Proposal>;
}
