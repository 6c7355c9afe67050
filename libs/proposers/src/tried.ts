import {
  canonicalize,
  findNearDuplicateCanonical,
  NEAR_DUPLICATE_DISTANCE,
  InvalidConfigurationError,
  type ModelConfiguration,
} from '@apo/model-config';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
import type { TrialRecord } from './proposer.ts';

/** A valid entry of a history, in canonical form, with its outcome made plain. */
export interface ObservedTrial {
  configuration: ModelConfiguration;
  /** The metric value of a succeeded training; undefined for a failure or a non-finite value. */
  value: number | undefined;
}

/**
 * The valid configurations of a history, indexed for the duplicate check every proposer makes.
 * Entries that are not valid under the current schema (stored by an older version) are left
 * out: they cannot be trained again as they are, and one bad document must not stop proposing.
 */
export class TriedConfigurations {
  /** The valid entries, oldest first. */
  readonly trials: readonly ObservedTrial[];
  /** How many entries were left out as invalid. */
  readonly skipped: number;
  private readonly byLayerCount = new Map<number, ModelConfiguration[]>();

  constructor(history: readonly TrialRecord[]) {
    const trials: ObservedTrial[] = [];
    for (const record of history) {
      let configuration: ModelConfiguration;
      try {
        // Validates and rounds in one pass; histories are read for every proposal.
        configuration = canonicalize(record.configuration);
      } catch (err) {
        if (err instanceof InvalidConfigurationError) continue;
        throw err;
      }
      const finite = record.status === 'succeeded' && typeof record.value === 'number' && Number.isFinite(record.value);
      trials.push({ configuration, value: finite ? record.value : undefined });
      this.remember(configuration);
    }
    this.trials = trials;
    this.skipped = history.length - trials.length;
  }

  /** Whether `candidate` repeats a tried configuration exactly or within `NEAR_DUPLICATE_DISTANCE`. */
  has(candidate: ModelConfiguration): boolean {
    const canonical = canonicalize(candidate);
    // An exact repeat is at distance 0, so the distance covers it without hashing. Different
    // layer counts are at least 0.5 apart, far beyond the threshold, so only the same count
    // needs the distance.
    const sameDepth = this.byLayerCount.get(candidate.hiddenLayers.length) ?? [];
    return findNearDuplicateCanonical(canonical, sameDepth, NEAR_DUPLICATE_DISTANCE) !== null;
  }

  private remember(configuration: ModelConfiguration): void {
    const sameDepth = this.byLayerCount.get(configuration.hiddenLayers.length) ?? [];
    sameDepth.push(configuration);
    this.byLayerCount.set(configuration.hiddenLayers.length, sameDepth);
  }
}

/** The candidate a proposer settled on, and how many it had to look at. */
export interface NewCandidate {
  configuration: ModelConfiguration;
  /** 1 when the first candidate was new. */
  attempts: number;
}

/**
 * The first of `candidates` (drawn lazily) that is not tried.
 * @throws SearchSpaceExhaustedError when `maxAttempts` candidates in a row were tried, or the
 * candidates ran out.
 */
export function firstNew(
  candidates: Iterable<ModelConfiguration>,
  tried: TriedConfigurations,
  options: { proposer: string; maxAttempts: number },
): NewCandidate {
  let attempts = 0;
  for (const configuration of candidates) {
    attempts += 1;
    if (!tried.has(configuration)) return { configuration, attempts };
    if (attempts >= options.maxAttempts) break;
  }
  throw new SearchSpaceExhaustedError(
    `${options.proposer}: no new configuration in ${attempts} candidates; all ${tried.trials.length} tried ones or their near-duplicates came up`,
    { details: { proposer: options.proposer, attempts, historySize: tried.trials.length } },
  );
}
