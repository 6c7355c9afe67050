import type { ArtifactStore } from '@apo/artifacts';
import { InvalidInputError } from '@apo/messages';
import { loadDataset, prepareFeaturesCached, profileDataset } from '@apo/ml';
import type { StageHandlers } from '@apo/runtime';
import type { PayloadOf } from '@apo/messages';

/** Pipelines whose features this process remembers. */
const MEMO_SIZE = 256;

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
  // Every iteration of a pipeline asks for the same features. Once prepared for a pipeline they
  // stay its features (even if the file changes later, every configuration is judged on one
  // split), so later iterations only check that the saved features are still there instead of
  // reading and parsing the dataset again: most of the loop's time outside training otherwise.
  const answered = new Map<string, PayloadOf<'FEATURES_READY'>>();
  return {
    PREPARE_FEATURES: async (message, ctx) => {
      const { dataset, datasetKey, task, split, seed } = message.payload;
      const memoKey = JSON.stringify([message.pipelineId, datasetKey, task, split, seed]);
      const known = answered.get(memoKey);
      if (known && (await deps.artifacts.exists(known.featuresUri))) {
        return [ctx.reply('FEATURES_READY', { ...known, reused: true })];
      }
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
      const payload = {
        featuresUri: prepared.uri,
        featuresKey: prepared.featuresKey,
        featureCount: features.featureCount,
        rows: { train: features.train.rows, validation: features.validation.rows, test: features.test.rows },
        reused: prepared.reused,
      };
      answered.set(memoKey, payload);
      if (answered.size > MEMO_SIZE) answered.delete(answered.keys().next().value!);
      return [ctx.reply('FEATURES_READY', payload)];
    },
  };
}
