import { canonicalize } from './canonical.ts';
import { safeParseModelConfiguration } from './parse.ts';
import type { ModelConfiguration } from './schema.ts';

/** One earlier training, as the history store records it. */
export interface HistoryEntry {
  /** The configuration trained; a stored JSON object is validated here. */
  configuration: unknown;
  /** Who proposed it (`llm`, `tpe`, ...). */
  source?: string;
  status: 'succeeded' | 'failed';
  /** The validation metric reached, for a succeeded training. */
  value?: number;
  /** Why the training failed. */
  error?: string;
  /** Kept for the caller's bookkeeping; the summary goes by position (oldest first) instead. */
  iteration?: number;
  pipelineId?: string;
}

/** What the summary ranks by. */
export interface SummaryOptions {
  metric: string;
  direction: 'maximize' | 'minimize';
  /** How many best configurations and newest failures each group keeps; default 3. */
  topK?: number;
}

// The summary types are type aliases, not interfaces, so a summary is assignable to a plain
// JSON object type (a message payload field) without a cast.

/** A succeeded configuration and the metric value it reached. */
export type RankedConfiguration = {
  value: number;
  configuration: ModelConfiguration;
  source?: string;
};

/** A failed configuration and why it failed (shortened). */
export type FailedConfiguration = {
  error: string;
  configuration: ModelConfiguration;
};

/** Everything tried with one number of hidden layers. */
export type LayerCountGroup = {
  layerCount: number;
  count: number;
  succeeded: number;
  failed: number;
  /** Best, median and worst metric values of the succeeded trainings; null when none succeeded. */
  best: number | null;
  median: number | null;
  worst: number | null;
  /** The best succeeded configurations, best first. */
  top: RankedConfiguration[];
  /** The newest failures, newest first. */
  failures: FailedConfiguration[];
};

/**
 * Earlier configurations grouped by layer count, ascending. Plain JSON without nested arrays
 * or non-finite numbers, so it can be stored as a MongoDB document as is.
 */
export type HistorySummary = {
  metric: string;
  direction: 'maximize' | 'minimize';
  /** Entries summarised: `succeeded + failed`. */
  total: number;
  succeeded: number;
  failed: number;
  /** Entries left out because their configuration is not valid under the current schema. */
  skipped: number;
  overallBest: { layerCount: number; value: number; configuration: ModelConfiguration } | null;
  groups: LayerCountGroup[];
};

/** Default number of configurations kept per group and kind. */
export const DEFAULT_TOP_K = 3;

/** Longest error message kept in the summary; a stack trace would crowd out everything else. */
export const MAX_ERROR_LENGTH = 300;

type Outcome =
  | { ok: true; value: number; configuration: ModelConfiguration; source: string | undefined }
  | { ok: false; error: string; configuration: ModelConfiguration };

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function outcomeOf(entry: HistoryEntry, configuration: ModelConfiguration, metric: string): Outcome {
  // A training that "succeeded" without a finite metric (a diverged loss is NaN) cannot be
  // ranked, and NaN cannot go into the document: it counts as a failure.
  if (entry.status === 'succeeded' && typeof entry.value === 'number' && Number.isFinite(entry.value)) {
    return { ok: true, value: entry.value, configuration, source: entry.source };
  }
  const error =
    entry.status === 'succeeded'
      ? `no finite ${metric} value (got ${String(entry.value)})`
      : (entry.error ?? 'no error recorded');
  return { ok: false, error: shorten(error, MAX_ERROR_LENGTH), configuration };
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  if (sorted.length % 2 === 1) return upper;
  const lower = sorted[middle - 1] ?? 0;
  // Halving the gap, not the sum, cannot overflow to Infinity.
  return lower + (upper - lower) / 2;
}

function ranked(outcome: Extract<Outcome, { ok: true }>): RankedConfiguration {
  const { value, configuration, source } = outcome;
  // An absent source is left out, not set to undefined, so the document survives JSON as is.
  return source === undefined ? { value, configuration } : { value, configuration, source };
}

function summarizeGroup(
  layerCount: number,
  outcomes: readonly Outcome[],
  better: (a: number, b: number) => number,
  topK: number,
): LayerCountGroup {
  const successes = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
  const failures = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  // Array.prototype.sort is stable: among equal values the earlier training stays first.
  const bestFirst = [...successes].sort((a, b) => better(a.value, b.value));
  const values = successes.map((s) => s.value).sort((a, b) => a - b);
  return {
    layerCount,
    count: outcomes.length,
    succeeded: successes.length,
    failed: failures.length,
    best: bestFirst[0]?.value ?? null,
    median: median(values),
    worst: bestFirst.at(-1)?.value ?? null,
    top: bestFirst.slice(0, topK).map(ranked),
    failures: failures
      .slice(Math.max(0, failures.length - topK))
      .reverse()
      .map(({ error, configuration }) => ({ error, configuration })),
  };
}

/**
 * Summarises earlier trainings by number of hidden layers, for a proposer (an LLM prompt) to
 * see what each depth achieved. Entries are expected oldest first, as the history is recorded;
 * "newest failures" are the last ones. Configurations appear in canonical form.
 * @throws RangeError when `topK` is not a non-negative integer.
 */
export function summarizeHistory(entries: readonly HistoryEntry[], options: SummaryOptions): HistorySummary {
  const { metric, direction, topK = DEFAULT_TOP_K } = options;
  if (!Number.isInteger(topK) || topK < 0) {
    throw new RangeError(`topK must be a non-negative integer (got ${topK})`);
  }
  const better = direction === 'maximize' ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;

  const byLayerCount = new Map<number, Outcome[]>();
  let skipped = 0;
  let overallBest: HistorySummary['overallBest'] = null;
  for (const entry of entries) {
    const parsed = safeParseModelConfiguration(entry.configuration);
    if (!parsed.success) {
      skipped += 1;
      continue;
    }
    const configuration = canonicalize(parsed.configuration);
    const layerCount = configuration.hiddenLayers.length;
    const outcome = outcomeOf(entry, configuration, metric);
    const group = byLayerCount.get(layerCount) ?? [];
    group.push(outcome);
    byLayerCount.set(layerCount, group);
    // Strictly better only: on a tie the earlier training stays the best, as within a group.
    if (outcome.ok && (overallBest === null || better(outcome.value, overallBest.value) < 0)) {
      overallBest = { layerCount, value: outcome.value, configuration };
    }
  }

  const groups = [...byLayerCount.entries()]
    .sort(([a], [b]) => a - b)
    .map(([layerCount, outcomes]) => summarizeGroup(layerCount, outcomes, better, topK));
  const succeeded = groups.reduce((sum, g) => sum + g.succeeded, 0);
  const failed = groups.reduce((sum, g) => sum + g.failed, 0);
  return { metric, direction, total: succeeded + failed, succeeded, failed, skipped, overallBest, groups };
}
