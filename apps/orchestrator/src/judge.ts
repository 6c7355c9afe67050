import { isBetter, meetsTarget, type Metrics, type PipelineOutcome, type WireError } from '@apo/messages';
import type { BestSoFar, PipelineChanges, PipelineRecord } from '@apo/store';

/** How an iteration ended, as the orchestrator judges it. */
export type IterationOutcome =
  | { kind: 'trained'; configurationId: string; validation: Metrics; test: Metrics; modelUri: string }
  | { kind: 'failed'; error: WireError };

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

/** The trial being judged, and how many other trials of the pipeline are still running. */
export interface Judged {
  iteration: number;
  running: number;
}

/**
 * The KPI is judged on the validation split of each trial as it finishes (in parallel runs, the
 * first to meet it ends the pipeline). Returns the pipeline changes: a better best, and the end
 * with its outcome and reason when there is one (`status: finished`). The budget of iterations is
 * spent when every iteration has started (`p.iteration` counts them) and none is still running.
 */
export function judge(p: PipelineRecord, trial: Judged, outcome: IterationOutcome, now: Date): PipelineChanges {
  const { metric, target } = p.kpi;
  let best: BestSoFar | null = p.best;
  let consecutiveFailures = p.consecutiveFailures;
  let finish: { outcome: PipelineOutcome; reason: string; error?: WireError } | null = null;

  if (outcome.kind === 'trained') {
    consecutiveFailures = 0;
    const value = outcome.validation[metric];
    const bestValue = best?.validation[metric];
    if (value !== undefined && (bestValue === undefined || isBetter(metric, value, bestValue))) {
      best = {
        iteration: trial.iteration,
        configurationId: outcome.configurationId,
        validation: outcome.validation,
        test: outcome.test,
        modelUri: outcome.modelUri,
      };
    }
    if (value !== undefined && meetsTarget(metric, value, target)) {
      finish = {
        outcome: 'succeeded',
        reason: `${metric} ${fmt(value)} on the validation split meets the target ${target} at iteration ${trial.iteration}`,
      };
    }
  } else {
    consecutiveFailures += 1;
  }

  const bestText = () => {
    const v = best?.validation[metric];
    return v === undefined ? 'no configuration trained successfully' : `best ${metric} ${fmt(v)} (iteration ${best!.iteration}) vs target ${target}`;
  };
  if (!finish && consecutiveFailures >= p.budget.maxConsecutiveFailures) {
    const last = outcome.kind === 'failed' ? `; last error: ${outcome.error.message}` : '';
    finish = {
      outcome: best ? 'budget_exhausted' : 'failed',
      reason: `${consecutiveFailures} iterations failed in a row${last}; ${bestText()}`,
      ...(outcome.kind === 'failed' && !best ? { error: outcome.error } : {}),
    };
  }
  if (!finish && p.iteration >= p.budget.maxIterations && trial.running === 0) {
    finish = { outcome: 'budget_exhausted', reason: `all ${p.budget.maxIterations} iterations used; ${bestText()}` };
  }
  const minutes = (now.getTime() - Date.parse(p.createdAt)) / 60_000;
  if (!finish && p.budget.maxMinutes !== undefined && minutes >= p.budget.maxMinutes) {
    finish = { outcome: 'budget_exhausted', reason: `time budget of ${p.budget.maxMinutes} min used; ${bestText()}` };
  }

  if (finish) {
    return {
      best,
      consecutiveFailures,
      status: 'finished',
      step: 'finished',
      outcome: finish.outcome,
      reason: finish.reason,
      error: finish.error ?? null,
      finishedAt: now.toISOString(),
    };
  }
  return { best, consecutiveFailures };
}
