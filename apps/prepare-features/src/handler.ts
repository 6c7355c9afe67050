import type { ArtifactStore } from '@apo/artifacts';
import { InvalidInputError } from '@apo/messages';
import { loadDataset, prepareFeaturesCached, profileDataset } from '@apo/ml';
import type { StageHandlers } from '@apo/runtime';

/** What the prepare-features stage needs from its composition root. */
export interface PrepareFeaturesDeps {
  artifacts: ArtifactStore;
  /** Dataset paths resolve inside this directory; anything outside it is refused. */
  dataRoot: string;
}

/**
 * The prepare-features stage: a seeded, stratified train / validation / test split, encoding and
 * normalisation fitted on the training split, saved content-addressed (the same dataset, target,
 * task, split and seed reuse the saved features).
 */
export function prepareFeaturesHandlers(deps: PrepareFeaturesDeps): StageHandlers {
  return {
    PREPARE_FEATURES: async (message, ctx) => {
      const { dataset, datasetKey, task, split, seed } = message.payload;
      const table = await loadDataset(dataset, { dataRoot: deps.dataRoot });
      if (table.contentHash !== datasetKey) {
        throw new InvalidInputError(
          `dataset ${dataset.uri} changed since the pipeline profiled it (key ${table.contentHash}, expected ${datasetKey})`,
        );
      }
      const profile = profileDataset(table, { task });
      const prepared = await prepareFeaturesCached({ artifacts: deps.artifacts, table, profile, split, seed });
      const { features } = prepared;
      ctx.logger.info({ featuresKey: prepared.featuresKey, reused: prepared.reused }, 'features ready');
      return [
        ctx.reply(
          'FEATURES_READY',
          {
            featuresUri: prepared.uri,
            featuresKey: prepared.featuresKey,
            featureCount: features.featureCount,
            rows: { train: features.train.rows, validation: features.validation.rows, test: features.test.rows },
            reused: prepared.reused,
          },
          { id: `${message.id}/FEATURES_READY` },
        ),
      ];
    },
  };
}
