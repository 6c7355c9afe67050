import type { ArtifactStore } from '@apo/artifacts';
import { artifactKey } from '@apo/artifacts';
import { configurationOf, evaluateModel, loadFeatures, loadModel, saveModel, trainModel, type EpochEvent, type PreparedFeatures } from '@apo/ml';
import { PipelineError } from '@apo/messages';
import type { StageHandlers } from '@apo/runtime';
import type { ResultRecord, Store } from '@apo/store';

/** Feature sets kept in memory between iterations. */
const RECENT_FEATURES = 4;

/** A training in progress, for live progress output. */
export interface TrainingProgress extends EpochEvent {
  pipelineId: string;
  iteration: number;
  configurationId: string;
  maxEpochs: number;
}

/** What the predict stage needs from its composition root. */
export interface PredictDeps {
  artifacts: ArtifactStore;
  store: Store;
  /** Starts the training backend once (the composition root picks it). */
  ready: () => Promise<unknown>;
  onEpoch?: (progress: TrainingProgress) => void;
  now?: () => Date;
}

/** Where a configuration's trained network is stored. */
export const trainedModelKey = (pipelineId: string, configurationId: string) =>
  artifactKey('models', pipelineId, configurationId, 'trained');

/**
 * The predict stage: trains the built network (early stopping on validation loss, the best
 * epoch's weights kept), evaluates it on the validation and test splits, saves the trained
 * model and the result. A configuration is trained once: a command seen again after its result
 * was saved answers from the saved result.
 */
export function predictHandlers(deps: PredictDeps): StageHandlers {
  const now = deps.now ?? (() => new Date());
  // Saved features are content-addressed and never rewritten under their URI, so the few most
  // recent stay in memory: every iteration of a pipeline trains on the same ones.
  const recentFeatures = new Map<string, Promise<PreparedFeatures>>();
  const featuresAt = (uri: string) => {
    let features = recentFeatures.get(uri);
    if (!features) {
      features = loadFeatures(deps.artifacts, uri);
      features.catch(() => recentFeatures.delete(uri));
      recentFeatures.set(uri, features);
      if (recentFeatures.size > RECENT_FEATURES) recentFeatures.delete(recentFeatures.keys().next().value!);
    }
    return features;
  };
  return {
    RUN_MODEL: async (message, ctx) => {
      const { configurationId, modelUri, featuresUri, seed } = message.payload;
      const answer = (r: ResultRecord) => [
        ctx.reply(
          'PREDICTION_READY',
          {
            configurationId,
            validation: r.validation ?? {},
            test: r.test ?? {},
            epochsRun: r.epochsRun ?? 0,
            trainingMs: r.trainingMs ?? 0,
            trainedModelUri: r.modelUri!,
          },
          { id: `${message.id}/PREDICTION_READY` },
        ),
      ];
      // Three independent reads, at once: over a network store each is a round trip.
      const [earlier, pipeline, saved] = await Promise.all([
        deps.store.getResultOf(configurationId),
        deps.store.getPipeline(message.pipelineId),
        deps.store.getConfiguration(configurationId),
      ]);
      if (earlier?.status === 'succeeded' && earlier.modelUri) return answer(earlier);
      // A failed result is the orchestrator's verdict on a trial it gave up (its step timed out),
      // and a finished pipeline (met KPI, cancel) waits for nothing: training either is wasted.
      if (earlier) {
        ctx.logger.info({ configurationId, error: earlier.error?.code }, 'configuration already judged failed; not trained');
        return [];
      }
      if (pipeline?.status === 'finished') {
        ctx.logger.info({ configurationId, outcome: pipeline.outcome }, 'pipeline already finished; not trained');
        return [];
      }

      // The llm stage saves every configuration before announcing it; results are filed by its dataset.
      if (!saved) {
        throw new PipelineError(`configuration ${configurationId} is not in the store`, 'UNKNOWN_CONFIGURATION', false);
      }
      await deps.ready();
      const configuration = configurationOf(message.payload.configuration);
      const [model, features] = await Promise.all([loadModel(deps.artifacts, modelUri), featuresAt(featuresUri)]);
      try {
        const report = await trainModel(model, configuration, features, {
          seed,
          onEpoch: (event) =>
            deps.onEpoch?.({
              ...event,
              pipelineId: message.pipelineId,
              iteration: message.iteration,
              configurationId,
              maxEpochs: configuration.maxEpochs,
            }),
        });
        const validation = evaluateModel(model, features.validation, features);
        const test = evaluateModel(model, features.test, features);
        const trainedUri = await saveModel(model, deps.artifacts, trainedModelKey(message.pipelineId, configurationId));
        const { record } = await deps.store.saveResult({
          id: `${configurationId}/result`,
          pipelineId: message.pipelineId,
          iteration: message.iteration,
          configurationId,
          datasetKey: saved.datasetKey,
          layerCount: configuration.hiddenLayers.length,
          status: 'succeeded',
          validation,
          test,
          trainingMs: Math.round(report.trainingMs),
          epochsRun: report.epochsRun,
          modelUri: trainedUri,
          error: null,
          createdAt: now().toISOString(),
        });
        ctx.logger.info(
          { configurationId, epochs: report.epochsRun, bestEpoch: report.bestEpoch, samplesPerSecond: Math.round(report.samplesPerSecond), validation: validation[message.payload.kpi.metric] },
          'trained and evaluated',
        );
        return answer(record);
      } finally {
        model.dispose();
      }
    },
  };
}
