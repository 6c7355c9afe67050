import { createHash } from 'node:crypto';
import type { SplitSpec, Task } from '@apo/messages';

/**
 * Version of the prepared-features format and algorithm. Bump it whenever the split, the
 * encoding or the files change, so old cached features are not reused for new code.
 */
export const FEATURES_FORMAT_VERSION = 1;

/** What prepared features depend on: the data, which column is learned, how, and the split. */
export interface FeaturesKeyInput {
  datasetKey: string;
  target: string;
  task: Task;
  split: SplitSpec;
  seed: number;
}

/**
 * Content address of prepared features: SHA-256 (hex, usable as an artifact key segment) of
 * canonical JSON with keys in a fixed order. Target and task are part of it because one file
 * profiled with another target yields other features.
 */
export function featuresKey(input: FeaturesKeyInput): string {
  const canonical = JSON.stringify({
    format: 'apo.features',
    version: FEATURES_FORMAT_VERSION,
    datasetKey: input.datasetKey,
    target: input.target,
    task: input.task,
    split: { train: input.split.train, validation: input.split.validation, test: input.split.test },
    seed: input.seed,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Artifact key prefix of one set of features. */
export function featuresPrefix(key: string): string {
  return `features/${key}/`;
}

/** Artifact key of the manifest of one set of features. */
export function featuresManifestKey(key: string): string {
  return `${featuresPrefix(key)}manifest.json`;
}
