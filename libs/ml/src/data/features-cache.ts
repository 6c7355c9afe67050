import type { ArtifactStore } from '@apo/artifacts';
import type { DatasetProfile, SplitSpec } from '@apo/messages';
import type { PreparedFeatures } from '../types.ts';
import { CorruptFeaturesError } from './errors/corrupt-features-error.ts';
import { checkProfile, prepareFeatures } from './features.ts';
import { featuresKey, featuresManifestKey } from './features-key.ts';
import { loadFeatures, saveFeatures } from './features-store.ts';
import type { Table } from './table.ts';

/** What `prepareFeaturesCached` prepares, and where it keeps the result. */
export interface PrepareFeaturesCachedOptions {
  artifacts: ArtifactStore;
  table: Table;
  profile: DatasetProfile;
  split: SplitSpec;
  seed: number;
}

/** Prepared features with where they are stored and whether they were reused. */
export interface CachedFeatures {
  /** URI of the manifest. */
  uri: string;
  features: PreparedFeatures;
  /** True when saved features were loaded instead of prepared. */
  reused: boolean;
  featuresKey: string;
}

/**
 * Prepares features once per content address: when a manifest for (dataset, target, task, split,
 * seed) exists it is loaded and nothing is written. Saved features that fail their checks are
 * prepared and written again rather than failing the stage forever.
 */
export async function prepareFeaturesCached(options: PrepareFeaturesCachedOptions): Promise<CachedFeatures> {
  const { artifacts, table, profile, split, seed } = options;
  checkProfile(table, profile);
  const key = featuresKey({ datasetKey: profile.datasetKey, target: profile.target, task: profile.task, split, seed });
  const manifestUri = artifacts.uriFor(featuresManifestKey(key));
  if (await artifacts.exists(manifestUri)) {
    try {
      const features = await loadFeatures(artifacts, manifestUri);
      // A width other than the profile's means features from other code under the same version.
      if (features.featureCount === profile.featureCount) {
        return { uri: manifestUri, features, reused: true, featuresKey: key };
      }
    } catch (err) {
      if (!(err instanceof CorruptFeaturesError)) throw err;
    }
  }
  const features = prepareFeatures(table, profile, { split, seed });
  const uri = await saveFeatures(artifacts, features, key);
  return { uri, features, reused: false, featuresKey: key };
}
