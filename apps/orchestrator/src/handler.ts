import {
  METRICS,
  PipelineError,
  toWireError,
  type AnyMessage,
  type DatasetProfile,
  type DatasetRef,
  type MessageOf,
  type Strategy,
  type Task,
} from '@apo/messages';
import type { HandlerContext, StageHandlers } from '@apo/runtime';
import type { PipelineChanges, PipelineRecord, Store } from '@apo/store';
import { randomUUID } from 'node:crypto';
import { buildAndPrepare, getConfiguration, pipelineFinished, runModel } from './commands.ts';
import { judge, type IterationOutcome } from './judge.ts';
import { currentIteration, withCurrent } from './state.ts';

/** What the orchestrator needs from its composition root. */
export interface OrchestratorDeps {
  store: Store;
  /** Profiles a dataset before any training; throws a non-retryable error for bad input. */
  profileDataset: (dataset: DatasetRef, options: { task: Task }) => Promise<DatasetProfile>;
  /** What the strategy `auto` becomes: `llm` when an LLM is configured, else `tpe`. */
  autoStrategy: Exclude<Strategy, 'auto'>;
  now?: () => Date;
}

/**
 * The orchestrator's handlers. Every reply is applied with optimistic concurrency (a conflict
 * is retried by the stage wrapper on fresh state), stale or repeated replies change nothing,
 * and a reply seen again re-sends the commands it led to (same ids, so stages skip them).
 */
export function orchestratorHandlers(deps: OrchestratorDeps): StageHandlers {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  /** The running pipeline a reply belongs to, or null when it is unknown, finished or stale. */
  async function pipelineFor(message: AnyMessage, ctx: HandlerContext): Promise<PipelineRecord | null> {
    const p = await store.getPipeline(message.pipelineId);
    if (!p) {
      ctx.logger.warn('reply for an unknown pipeline; ignored');
      return null;
    }
    return p;
  }

  async function finishedMessage(p: PipelineRecord, causationId: string | null): Promise<AnyMessage> {
    const best = p.best ? await store.getConfiguration(p.best.configurationId) : null;
    return pipelineFinished(p, best?.configuration ?? null, causationId);
  }

  /** What follows a judged iteration: the next request for a configuration, or the end. */
  async function afterJudgement(p: PipelineRecord, causationId: string): Promise<AnyMessage[]> {
    if (p.status === 'finished') return [await finishedMessage(p, causationId)];
    return [getConfiguration(p, causationId)];
  }

  async function update(p: PipelineRecord, changes: PipelineChanges) {
    return store.updatePipeline(p.id, p.version, changes);
  }

  async function endIteration(message: AnyMessage, outcome: IterationOutcome, ctx: HandlerContext) {
    const p = await pipelineFor(message, ctx);
    if (!p) return [];
    // Already judged (a redelivery after the judgement was saved): send its consequence again.
    if (p.status === 'finished' || p.iteration > message.iteration) {
      return p.iteration === message.iteration + 1 || p.status === 'finished' ? afterJudgement(p, message.id) : [];
    }
    if (message.iteration !== p.iteration) return [];
    const it = currentIteration(p);
    if (outcome.kind === 'failed' && it) {
      await store.saveResult({
        id: `${it.configurationId}/result`,
        pipelineId: p.id,
        iteration: p.iteration,
        configurationId: it.configurationId,
        datasetKey: p.profile!.datasetKey,
        layerCount: it.layerCount,
        status: 'failed',
        validation: null,
        test: null,
        trainingMs: null,
        epochsRun: null,
        modelUri: null,
        error: outcome.error,
        createdAt: now().toISOString(),
      });
    }
    const judged = await update(p, judge(p, outcome, now()));
    ctx.logger.info(
      { step: judged.step, outcome: judged.outcome, best: judged.best?.validation[p.kpi.metric] },
      judged.status === 'finished' ? `pipeline finished: ${judged.reason}` : 'iteration judged',
    );
    return afterJudgement(judged, message.id);
  }

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
        // A repeated start: send again what the first one led to, if it is still the next step.
        if (p.status === 'finished') return [await finishedMessage(p, ctx.messageId)];
        return p.iteration === 1 && p.step === 'configuring' ? [getConfiguration(p, ctx.messageId)] : [];
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
        // Bad input ends the pipeline before any proposal is asked for.
        const finished = await update(p, {
          status: 'finished',
          step: 'finished',
          outcome: 'failed',
          reason: err.message,
          error: toWireError(err),
          finishedAt: now().toISOString(),
        });
        ctx.logger.warn({ pipelineId: p.id, reason: err.message }, 'pipeline refused its input');
        return [await finishedMessage(finished, ctx.messageId)];
      }
      const configuring = await update(p, { profile, task: profile.task, step: 'configuring', iteration: 1 });
      return [getConfiguration(configuring, ctx.messageId)];
    },

    NEW_LLM_CONFIGURATION_READY: async (message, ctx) => {
      const p = await pipelineFor(message, ctx);
      if (!p || p.status !== 'running' || message.iteration !== p.iteration) return [];
      const current = currentIteration(p);
      if (current) {
        // Seen before: if still waiting on the fan-out, send it again.
        return current.configurationId === message.payload.configurationId && p.step === 'building'
          ? buildAndPrepare(p, current, message.id)
          : [];
      }
      if (p.step !== 'configuring') return [];
      const it = {
        iteration: p.iteration,
        configurationId: message.payload.configurationId,
        configuration: message.payload.configuration,
        layerCount: message.payload.layerCount,
        modelUri: null,
        featuresUri: null,
      };
      // The tokens are counted here, once: this update happens once per iteration (step guard).
      const usage = message.payload.llm;
      const building = await update(p, {
        step: 'building',
        state: withCurrent(p, it),
        ...(usage ? { llmTokens: p.llmTokens + usage.inputTokens + usage.outputTokens } : {}),
      });
      return buildAndPrepare(building, it, message.id);
    },

    MODEL_READY: (message, ctx) => joinFanOut(message, ctx, { modelUri: message.payload.modelUri }),
    FEATURES_READY: (message, ctx) => joinFanOut(message, ctx, { featuresUri: message.payload.featuresUri }),

    PREDICTION_READY: (message, ctx) => {
      const it = message.payload;
      return endIteration(
        message,
        { kind: 'trained', configurationId: it.configurationId, validation: it.validation, test: it.test, modelUri: it.trainedModelUri },
        ctx,
      );
    },

    CANCEL_PIPELINE: async (message, ctx) => {
      const p = await pipelineFor(message, ctx);
      if (!p) return [];
      if (p.status === 'finished') {
        // A redelivered cancel re-sends its end (same id); a cancel after the end changes nothing.
        return p.outcome === 'cancelled' ? [await finishedMessage(p, message.id)] : [];
      }
      // Replies still in flight find the pipeline finished: they save nothing and start nothing.
      const cancelled = await update(p, {
        status: 'finished',
        step: 'finished',
        outcome: 'cancelled',
        reason: `${message.payload.reason} (during iteration ${p.iteration}, step ${p.step})`,
        finishedAt: now().toISOString(),
      });
      ctx.logger.info({ reason: message.payload.reason }, 'pipeline cancelled');
      return [await finishedMessage(cancelled, message.id)];
    },

    STAGE_FAILED: async (message, ctx) => {
      const p = await store.getPipeline(message.pipelineId);
      // The orchestrator's own failures (before a pipeline existed) and other stages' failures
      // for configurations no longer in flight change nothing.
      if (!p || message.payload.stage === 'orchestrator') return [];
      const current = currentIteration(p);
      const id = message.payload.configurationId;
      if (id && current && id !== current.configurationId) return [];
      ctx.logger.warn({ failedStage: message.payload.stage, error: message.payload.error }, 'iteration failed');
      return endIteration(message, { kind: 'failed', error: message.payload.error }, ctx);
    },
  };

  async function joinFanOut(
    message: MessageOf<'MODEL_READY'> | MessageOf<'FEATURES_READY'>,
    ctx: HandlerContext,
    found: { modelUri?: string; featuresUri?: string },
  ): Promise<AnyMessage[]> {
    const p = await pipelineFor(message, ctx);
    if (!p || p.status !== 'running' || message.iteration !== p.iteration) return [];
    const it = currentIteration(p);
    if (!it) return [];
    if ('configurationId' in message.payload && message.payload.configurationId !== it.configurationId) return [];
    const next = { ...it, ...found };
    if (p.step === 'training') return next.modelUri === it.modelUri && next.featuresUri === it.featuresUri ? [runModel(p, it, message.id)] : [];
    if (p.step !== 'building') return [];
    const joined = next.modelUri !== null && next.featuresUri !== null;
    const saved = await update(p, { state: withCurrent(p, next), ...(joined ? { step: 'training' } : {}) });
    return joined ? [runModel(saved, next, message.id)] : [];
  }
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
