import type { ArtifactStore } from '@apo/artifacts';
import { artifactKey } from '@apo/artifacts';
import { buildModel, configurationOf, parameterCount, saveModel } from '@apo/ml';
import type { StageHandlers } from '@apo/runtime';

/** What the build-model stage needs from its composition root. */
export interface BuildModelDeps {
  artifacts: ArtifactStore;
  /** Starts the training backend once (the composition root picks it). */
  ready: () => Promise<unknown>;
}

/** Where a configuration's untrained network is stored. */
export const initialModelKey = (pipelineId: string, configurationId: string) =>
  artifactKey('models', pipelineId, configurationId, 'initial');

/**
 * The build-model stage: the network of a configuration for the dataset's profile (hidden
 * layers as proposed, the output layer and loss from the task), seeded, saved untrained.
 */
export function buildModelHandlers(deps: BuildModelDeps): StageHandlers {
  return {
    GENERATE_MODEL: async (message, ctx) => {
      await deps.ready();
      const { configurationId, profile, seed } = message.payload;
      const configuration = configurationOf(message.payload.configuration);
      const spec = { featureCount: profile.featureCount, task: profile.task, classCount: profile.classes?.length ?? 0 };
      const model = buildModel(configuration, spec, { seed });
      try {
        const modelUri = await saveModel(model, deps.artifacts, initialModelKey(message.pipelineId, configurationId));
        const parameters = parameterCount(model);
        ctx.logger.info({ configurationId, parameters }, 'model built');
        return [
          ctx.reply(
            'MODEL_READY',
            { configurationId, modelUri, parameterCount: parameters },
            { id: `${message.id}/MODEL_READY` },
          ),
        ];
      } finally {
        model.dispose();
      }
    },
  };
}
