import {
  createMessage,
  type AnyMessage,
  type JsonObject,
  type MessageType,
  type PayloadOf,
} from '@apo/messages';
import type { PipelineRecord } from '@apo/store';
import type { StepName } from './dag.ts';
import type { TrialState } from './state.ts';

// Commands get ids derived from (pipeline, iteration, type): a command the orchestrator sends
// again after a crash or a redelivered reply has the same id, and its stage handles it once.
function command<T extends MessageType>(
  type: T,
  pipeline: PipelineRecord,
  iteration: number,
  payload: PayloadOf<T>,
  causationId: string | null,
  attempt: number,
) {
  return createMessage(type, {
    id: `${pipeline.id}/${iteration}/${type}`,
    pipelineId: pipeline.id,
    iteration,
    attempt,
    causationId,
    payload,
  });
}

const kpiOf = (p: PipelineRecord) => ({ metric: p.kpi.metric, target: p.kpi.target });
const strategyOf = (p: PipelineRecord) => (p.strategy === 'auto' ? 'tpe' : p.strategy);

/** Seed of the network's initial weights in an iteration; the split seed stays the pipeline's. */
export const modelSeed = (p: PipelineRecord, iteration: number) => (p.seed * 1009 + iteration) % 2 ** 31;

/** LLM tokens the pipeline may still spend, when its budget has `maxLlmTokens`. */
export const llmTokensLeft = (p: PipelineRecord) =>
  p.budget.maxLlmTokens === undefined ? undefined : Math.max(0, p.budget.maxLlmTokens - p.llmTokens);

/** The command a step of a trial sends; `attempt` counts its sends (the envelope's `attempt`). */
export function commandFor(step: StepName, p: PipelineRecord, trial: TrialState, causationId: string | null, attempt = 1): AnyMessage {
  const send = <T extends MessageType>(type: T, payload: PayloadOf<T>) => command(type, p, trial.iteration, payload, causationId, attempt);
  const profile = p.profile!;
  const seed = modelSeed(p, trial.iteration);
  switch (step) {
    case 'configure': {
      const left = llmTokensLeft(p);
      return send('GET_CONFIGURATION', {
        datasetKey: profile.datasetKey,
        strategy: strategyOf(p),
        kpi: kpiOf(p),
        profile,
        ...(left === undefined ? {} : { llmTokensLeft: left }),
      });
    }
    // Steps 3 and 4 depend only on the configuration and the start message: the DAG sends them side by side.
    case 'build':
      return send('GENERATE_MODEL', { configurationId: trial.configurationId!, configuration: trial.configuration!, profile, seed });
    case 'prepare':
      return send('PREPARE_FEATURES', {
        dataset: { uri: p.dataset.uri, target: profile.target },
        datasetKey: profile.datasetKey,
        task: profile.task,
        split: p.split,
        seed: p.seed,
      });
    case 'train':
      return send('RUN_MODEL', {
        configurationId: trial.configurationId!,
        configuration: trial.configuration!,
        modelUri: trial.modelUri!,
        featuresUri: trial.featuresUri!,
        kpi: kpiOf(p),
        seed,
      });
  }
}

export function pipelineFinished(
  p: PipelineRecord,
  bestConfiguration: JsonObject | null,
  causationId: string | null,
): AnyMessage {
  const started = Date.parse(p.createdAt);
  const finished = Date.parse(p.finishedAt ?? p.updatedAt);
  return createMessage('PIPELINE_FINISHED', {
    id: `${p.id}/PIPELINE_FINISHED`,
    pipelineId: p.id,
    iteration: p.iteration,
    causationId,
    payload: {
      outcome: p.outcome ?? 'failed',
      reason: p.reason ?? '',
      kpi: kpiOf(p),
      dataset: p.dataset,
      best:
        p.best && bestConfiguration
          ? { ...p.best, configuration: bestConfiguration }
          : null,
      iterationsUsed: p.iteration,
      elapsedMs: Math.max(0, finished - started),
      ...(p.requestId ? { requestId: p.requestId } : {}),
      ...(p.error ? { error: p.error } : {}),
      ...(p.llmTokens > 0 ? { llmTokens: p.llmTokens } : {}),
    },
  });
}
