import {
  METRICS,
  PipelineError,
  toWireError,
  type AnyMessage,
  type DatasetProfile,
  type DatasetRef,
  type MessageType,
  type Strategy,
  type Task,
} from '@apo/messages';
import type { Logger, StageHandlers } from '@apo/runtime';
import type { PipelineRecord, Store } from '@apo/store';
import { randomUUID } from 'node:crypto';
import { iterationDag, type Dag } from './dag.ts';
import { createEngine, type Engine } from './engine.ts';

/** What the orchestrator needs from its composition root. */
export interface OrchestratorDeps {
  store: Store;
  /** Profiles a dataset before any training; throws a non-retryable error for bad input. */
  profileDataset: (dataset: DatasetRef, options: { task: Task }) => Promise<DatasetProfile>;
  /** What the strategy `auto` becomes: `llm` when an LLM is configured, else `tpe`. */
  autoStrategy: Exclude<Strategy, 'auto'>;
  /** The iteration's steps with their timeouts and retries (default `iterationDag()`). */
  dag?: Dag;
  now?: () => Date;
}

/**
 * The replies the orchestrator handles idempotently by its own state: a reply seen again finds
 * its step done (or its trial ended) and re-sends only what it led to, with the same ids. So no
 * processed-message record is kept for them. The start is not among them: one typed without a
 * request id would create a second pipeline.
 */
export const ORCHESTRATOR_IDEMPOTENT: readonly MessageType[] = [
  'NEW_LLM_CONFIGURATION_READY',
  'MODEL_READY',
  'FEATURES_READY',
  'PREDICTION_READY',
  'STAGE_FAILED',
  'CANCEL_PIPELINE',
];

// The handlers and the sweep made from one deps object share one engine, and so its record of
// the pipelines: the sweep's updates do not make the handlers' record stale.
const engines = new WeakMap<OrchestratorDeps, Engine>();
const engineOf = (deps: OrchestratorDeps) => {
  let engine = engines.get(deps);
  if (!engine) {
    engine = createEngine({ store: deps.store, dag: deps.dag ?? iterationDag(), now: deps.now ?? (() => new Date()) });
    engines.set(deps, engine);
  }
  return engine;
};

/**
 * The orchestrator's periodic task: re-sends commands whose reply is overdue and fails trials out
 * of tries (see `Engine.sweep`). The service runs it at start-up and then every few seconds.
 */
export function orchestratorSweep(
  deps: OrchestratorDeps,
  options: { include?: (p: PipelineRecord) => boolean } = {},
): (logger: Logger) => Promise<AnyMessage[]> {
  const engine = engineOf(deps);
  return (logger) => engine.sweep(logger, options.include);
}

/**
 * The orchestrator's handlers. Every reply is applied with optimistic concurrency (a conflict
 * is retried by the stage wrapper on fresh state), stale or repeated replies change nothing,
 * and a reply seen again re-sends the commands it led to (same ids, so stages skip them).
 */
export function orchestratorHandlers(deps: OrchestratorDeps): StageHandlers {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const engine = engineOf(deps);

  return {
    ADAPTIVE_PIPELINE_START: async (start, ctx) => {
      let p = start.requestId ? await store.findPipelineByRequestId(start.requestId) : null;
      if (!p) {
        p = await store.createPipeline({
          id: randomUUID(),
          status: 'running',
          step: 'profiling',
          iteration: 0,
          kpi: start.kpi,
          budget: start.budget,
          dataset: start.dataset,
          profile: null,
          task: start.task ?? null,
          strategy: start.strategy === 'auto' ? deps.autoStrategy : start.strategy,
          seed: start.seed,
          split: start.split,
          parallelism: start.parallelism,
          requestId: start.requestId ?? null,
          schedule: start.schedule ?? null,
          best: null,
          outcome: null,
          reason: null,
          error: null,
          consecutiveFailures: 0,
          llmTokens: 0,
          state: {},
          finishedAt: null,
        });
        ctx.logger.info({ pipelineId: p.id, kpi: start.kpi, dataset: start.dataset }, 'pipeline created');
      }
      if (p.step !== 'profiling') {
        // A repeated start: its answer if the pipeline ended, else what it sent that still waits.
        if (p.status === 'finished') return [await engine.finishedMessage(p, ctx.messageId)];
        return engine.resendFor(p, ctx.messageId);
      }
      const metricTask = METRICS[p.kpi.metric].task;
      let profile: DatasetProfile;
      try {
        profile = await deps.profileDataset(p.dataset, { task: p.task ?? metricTask });
        if (profile.task !== metricTask) {
          throw new PipelineError(
            `kpi.metric "${p.kpi.metric}" is a ${metricTask} metric, but the dataset's target "${profile.target}" makes this ${profile.task}`,
            'KPI_DOES_NOT_FIT',
            false,
          );
        }
        if (p.kpi.metric === 'roc_auc' && (profile.classes?.length ?? 0) > 2) {
          throw new PipelineError(
            `kpi.metric "roc_auc" needs two classes; target "${profile.target}" has ${profile.classes?.length}`,
            'KPI_DOES_NOT_FIT',
            false,
          );
        }
      } catch (caught) {
        if (!(caught instanceof PipelineError) || caught.retryable) throw caught;
        const err = p.task === null && caught.details?.['regressionTarget'] ? kpiMakesRegression(p, caught) : caught;
        ctx.logger.warn({ pipelineId: p.id, reason: err.message }, 'pipeline refused its input');
        // Bad input ends the pipeline before any proposal is asked for.
        return engine.finish(
          p,
          { outcome: 'failed', reason: err.message, error: toWireError(err), finishedAt: now().toISOString() },
          ctx.messageId,
        );
      }
      return engine.begin(p, { profile, task: profile.task }, ctx.messageId);
    },

    NEW_LLM_CONFIGURATION_READY: (message, ctx) => {
      const ready = message.payload;
      return engine.onReply(
        message,
        ctx.logger,
        () => ({ configurationId: ready.configurationId, configuration: ready.configuration, layerCount: ready.layerCount }),
        // The tokens are counted here, once: the step is marked done in the same update.
        { changes: (p) => (ready.llm ? { llmTokens: p.llmTokens + ready.llm.inputTokens + ready.llm.outputTokens } : {}) },
      );
    },

    MODEL_READY: (message, ctx) =>
      engine.onReply(message, ctx.logger, (t) => (message.payload.configurationId === t.configurationId ? { modelUri: message.payload.modelUri } : null)),

    FEATURES_READY: (message, ctx) => engine.onReply(message, ctx.logger, () => ({ featuresUri: message.payload.featuresUri })),

    PREDICTION_READY: (message, ctx) => {
      const it = message.payload;
      return engine.onReply(message, ctx.logger, (t) => (it.configurationId === t.configurationId ? {} : null), {
        outcome: { kind: 'trained', configurationId: it.configurationId, validation: it.validation, test: it.test, modelUri: it.trainedModelUri },
      });
    },

    CANCEL_PIPELINE: async (message, ctx) => {
      const p = await store.getPipeline(message.pipelineId);
      if (!p) {
        ctx.logger.warn('cancel for an unknown pipeline; ignored');
        return [];
      }
      if (p.status === 'finished') {
        // A redelivered cancel re-sends its end (same id); a cancel after the end changes nothing.
        return p.outcome === 'cancelled' ? [await engine.finishedMessage(p, message.id)] : [];
      }
      ctx.logger.info({ reason: message.payload.reason }, 'pipeline cancelled');
      // Replies still in flight find no trial: they save nothing and start nothing.
      return engine.finish(
        p,
        { outcome: 'cancelled', reason: `${message.payload.reason} (during iteration ${p.iteration}, step ${p.step})`, finishedAt: now().toISOString() },
        message.id,
      );
    },

    STAGE_FAILED: async (message, ctx) => {
      // The orchestrator's own failures (before a pipeline existed) change nothing.
      if (message.payload.stage === 'orchestrator') return [];
      // A failure of a step already answered (a late copy, or a timeout declared as the reply
      // came) changes nothing.
      const step = engine.dag.find((d) => d.command === message.payload.failedType);
      const found = await engine.trialOf(message, ctx.logger, step?.name);
      if (!found) return [];
      const { p, trial } = found;
      if (!trial || (step && trial.steps[step.name].status === 'done')) return engine.resendFor(p, message.id);
      // A failure for a configuration no longer in flight (a late copy) changes nothing.
      const id = message.payload.configurationId;
      if (id && trial.configurationId && id !== trial.configurationId) return [];
      ctx.logger.warn({ failedStage: message.payload.stage, error: message.payload.error }, 'iteration failed');
      return (await engine.endTrial(p, trial, { kind: 'failed', error: message.payload.error }, message.id, ctx.logger)).messages;
    },
  };
}

/** A regression metric named for a target holding classes: the KPI chose the task, so say so. */
function kpiMakesRegression(p: PipelineRecord, err: PipelineError): PipelineError {
  const { column, value, row } = err.details as { column: string; value: string; row: number };
  return new PipelineError(
    `kpi.metric "${p.kpi.metric}" is a regression metric, but the target column "${column}" is not numeric (data row ${row} has "${value}"); name a classification metric or another target column (dataset.target)`,
    'KPI_DOES_NOT_FIT',
    false,
    { cause: err },
  );
}
