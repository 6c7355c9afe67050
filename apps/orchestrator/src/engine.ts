import { createMessage, toWireError, type AnyMessage, type StageName } from '@apo/messages';
import { ConcurrencyConflictError, type PipelineChanges, type PipelineRecord, type Store } from '@apo/store';
import type { Logger } from '@apo/runtime';
import { commandFor, pipelineFinished } from './commands.ts';
import { markDone, markResent, markSent, overdue, readySteps, spec, waitedMs, type Dag, type StepName } from './dag.ts';
import { judge, type IterationOutcome } from './judge.ts';
import { newTrial, orchestration, stepWord, toState, type OrchestrationState, type TrialState } from './state.ts';
import { StepTimeoutError } from './step-timeout-error.ts';

/** The stage that handles each step's command: a timed-out step is declared its failure. */
const STAGE_OF_STEP: Record<StepName, StageName> = { configure: 'config', build: 'build-model', prepare: 'prepare-features', train: 'predict' };

/** Running pipelines an engine keeps the newest record of; beyond them the oldest is read again. */
const KNOWN_PIPELINES = 1_000;

export interface EngineDeps {
  store: Store;
  dag: Dag;
  now: () => Date;
}

/** What a step's reply brings to its trial; null when the reply belongs to another configuration. */
export type Found = Partial<Pick<TrialState, 'configurationId' | 'configuration' | 'layerCount' | 'modelUri' | 'featuresUri'>> | null;

/**
 * Runs the iteration DAG of every pipeline: which commands a reply leads to, how a finished trial
 * is judged, which trials start next, and what an overdue step does. Every transition is one
 * update of the pipeline record with optimistic concurrency, so two replies racing on one
 * pipeline apply one after the other (the loser is retried on fresh state by the stage wrapper).
 */
export function createEngine({ store, dag, now }: EngineDeps) {
  // The newest record of each running pipeline this engine read or wrote. Replies are applied on
  // it instead of a fresh read, a round trip saved on every reply. It is never ahead of the store,
  // only behind when another writer (a replica, after a rebalance) changed the pipeline: then an
  // update fails with a conflict, the record is dropped, and the retry reads it fresh; and a reply
  // it would ignore is looked at again on a fresh read (`trialOf`).
  const known = new Map<string, PipelineRecord>();
  const remember = (p: PipelineRecord) => {
    const had = known.get(p.id);
    if (had && had.version > p.version) return;
    known.delete(p.id);
    if (p.status !== 'running') return;
    known.set(p.id, p);
    if (known.size > KNOWN_PIPELINES) known.delete(known.keys().next().value!);
  };
  const update = async (p: PipelineRecord, changes: PipelineChanges) => {
    try {
      const saved = await store.updatePipeline(p.id, p.version, changes);
      remember(saved);
      return saved;
    } catch (err) {
      known.delete(p.id);
      throw err;
    }
  };

  async function finishedMessage(p: PipelineRecord, causationId: string | null): Promise<AnyMessage> {
    const best = p.best ? await store.getConfiguration(p.best.configurationId) : null;
    return pipelineFinished(p, best?.configuration ?? null, causationId);
  }

  /** The commands of `names` in a trial, as sent (or last re-sent). */
  const commands = (p: PipelineRecord, trial: TrialState, names: readonly StepName[], causationId: string | null) =>
    names.map((n) => commandFor(n, p, trial, causationId, trial.steps[n].attempts));

  /**
   * What a message seen again led to: the commands it sent that still wait for their reply, and
   * the end of the pipeline if it caused it. Same ids as the first time, so stages skip copies.
   */
  async function resendFor(p: PipelineRecord, messageId: string): Promise<AnyMessage[]> {
    const s = orchestration(p, dag);
    if (p.status === 'finished') return s.finishedBy === messageId ? [await finishedMessage(p, messageId)] : [];
    return s.trials.flatMap((t) =>
      commands(p, t, dag.filter((d) => t.steps[d.name].status === 'sent' && t.steps[d.name].cause === messageId).map((d) => d.name), messageId),
    );
  }

  /**
   * Starts trials until `parallelism` run or every iteration of the budget has started. Each new
   * trial gets the next iteration number (so its command ids are its own) and its first steps sent.
   */
  function fill(p: PipelineRecord, running: TrialState[], cause: string | null) {
    let iteration = p.iteration;
    const trials = [...running];
    const started: TrialState[] = [];
    while (trials.length < p.parallelism && iteration < p.budget.maxIterations) {
      iteration += 1;
      const fresh = newTrial(dag, iteration);
      const trial = { ...fresh, steps: markSent(dag, fresh.steps, readySteps(dag, fresh.steps), cause, now()) };
      trials.push(trial);
      started.push(trial);
    }
    return { iteration, trials, started };
  }

  const sentNames = (t: TrialState) => dag.filter((d) => t.steps[d.name].status === 'sent').map((d) => d.name);

  /** The first trials of a profiled pipeline; `changes` carries the profile. */
  async function begin(p: PipelineRecord, changes: PipelineChanges, cause: string): Promise<AnyMessage[]> {
    const filled = fill({ ...p, ...changes } as PipelineRecord, [], cause);
    const saved = await update(p, {
      ...changes,
      iteration: filled.iteration,
      step: stepWord(filled.trials),
      state: toState({ trials: filled.trials, finishedBy: null }),
    });
    return filled.started.flatMap((t) => commands(saved, t, sentNames(t), cause));
  }

  /**
   * A step's reply: the step is done, the steps it unblocks are sent, and when it was the trial's
   * last step the trial is judged. A repeated reply re-sends what it led to and changes nothing.
   */
  async function onReply(
    message: AnyMessage,
    logger: Logger,
    found: (trial: TrialState) => Found,
    options: { outcome?: IterationOutcome; changes?: (p: PipelineRecord) => PipelineChanges } = {},
  ): Promise<AnyMessage[]> {
    const step = dag.find((d) => d.reply === message.type)!;
    const at = await trialOf(message, logger, step.name);
    if (!at) return [];
    const { p, trial } = at;
    if (!trial || trial.steps[step.name].status !== 'sent') return resendFor(p, message.id);
    const data = found(trial);
    if (data === null) return [];
    if (options.outcome) return (await endTrial(p, { ...trial, ...data }, options.outcome, message.id, logger)).messages;
    const s = orchestration(p, dag);
    let steps = markDone(trial.steps, step.name);
    const ready = readySteps(dag, steps);
    steps = markSent(dag, steps, ready, message.id, now());
    const next: TrialState = { ...trial, ...data, steps };
    const trials = s.trials.map((t) => (t.iteration === trial.iteration ? next : t));
    const saved = await update(p, { ...options.changes?.(p), step: stepWord(trials), state: toState({ ...s, trials }) });
    return commands(saved, next, ready, message.id);
  }

  /**
   * A trial ends (trained, failed, or out of time): a failed one is recorded as a tried
   * configuration with its error, the KPI and budget are judged, and either the pipeline finishes
   * or new trials take the freed places.
   */
  async function endTrial(
    p: PipelineRecord,
    trial: TrialState,
    given: IterationOutcome,
    cause: string,
    logger: Logger,
  ): Promise<{ pipeline: PipelineRecord; messages: AnyMessage[] }> {
    let outcome = given;
    if (outcome.kind === 'failed' && trial.configurationId) {
      const { record } = await store.saveResult({
        id: `${trial.configurationId}/result`,
        pipelineId: p.id,
        iteration: trial.iteration,
        configurationId: trial.configurationId,
        datasetKey: p.profile!.datasetKey,
        layerCount: trial.layerCount ?? 0,
        status: 'failed',
        validation: null,
        test: null,
        trainingMs: null,
        epochsRun: null,
        modelUri: null,
        error: outcome.error,
        createdAt: now().toISOString(),
      });
      // The stage saved its result first (its reply came late or was lost): that is what happened.
      if (record.status === 'succeeded' && record.validation && record.test && record.modelUri) {
        outcome = { kind: 'trained', configurationId: record.configurationId, validation: record.validation, test: record.test, modelUri: record.modelUri };
      }
    }
    const s = orchestration(p, dag);
    const others = s.trials.filter((t) => t.iteration !== trial.iteration);
    const judged = judge(p, { iteration: trial.iteration, running: others.length }, outcome, now());
    const best = judged.best?.validation[p.kpi.metric];
    if (judged.status === 'finished') {
      // Trials still running are let go: their late replies find no trial and change nothing.
      const done = await update(p, { ...judged, state: toState({ trials: [], finishedBy: cause }) });
      logger.info({ iteration: trial.iteration, outcome: done.outcome, best }, `pipeline finished: ${done.reason}`);
      return { pipeline: done, messages: [await finishedMessage(done, cause)] };
    }
    const filled = fill(p, others, cause);
    const saved = await update(p, {
      ...judged,
      iteration: filled.iteration,
      step: stepWord(filled.trials),
      state: toState({ trials: filled.trials, finishedBy: null }),
    });
    logger.info({ iteration: trial.iteration, outcome: outcome.kind, best }, 'iteration judged');
    return { pipeline: saved, messages: filled.started.flatMap((t) => commands(saved, t, sentNames(t), cause)) };
  }

  /**
   * The running trial of a message's iteration in a running pipeline (waiting for `step`'s reply
   * when a step is named), with the pipeline; null for an unknown pipeline.
   */
  async function trialOf(message: AnyMessage, logger: Logger, step?: StepName): Promise<{ p: PipelineRecord; trial: TrialState | undefined } | null> {
    const locate = (p: PipelineRecord) => ({
      p,
      trial: p.status === 'running' ? orchestration(p, dag).trials.find((t) => t.iteration === message.iteration) : undefined,
    });
    const kept = known.get(message.pipelineId);
    if (kept) {
      const at = locate(kept);
      // The record kept may be behind the store: what it would ignore as late or repeated is
      // looked at again on a fresh read, so a reply is never dropped for a stale view.
      if (at.trial && (!step || at.trial.steps[step].status === 'sent')) return at;
    }
    const p = await store.getPipeline(message.pipelineId);
    if (!p) {
      logger.warn('reply for an unknown pipeline; ignored');
      return null;
    }
    remember(p);
    return locate(p);
  }

  /** Ends a running pipeline from outside its trials (a cancel). */
  async function finish(p: PipelineRecord, changes: PipelineChanges, cause: string): Promise<AnyMessage[]> {
    const done = await update(p, { ...changes, status: 'finished', step: 'finished', state: toState({ trials: [], finishedBy: cause }) });
    return [await finishedMessage(done, cause)];
  }

  /**
   * Overdue steps of one pipeline: sent again (same id, next attempt, a longer wait) while tries
   * remain, then the trial fails with `STEP_TIMEOUT`. Returns what to publish.
   */
  async function sweepPipeline(p0: PipelineRecord, logger: Logger): Promise<AnyMessage[]> {
    const at = now();
    const s: OrchestrationState = orchestration(p0, dag);
    const resent: { trial: TrialState; names: StepName[] }[] = [];
    const expired: { iteration: number; step: StepName }[] = [];
    const trials = s.trials.map((t) => {
      const due = overdue(dag, t.steps, at);
      if (due.expired) expired.push({ iteration: t.iteration, step: due.expired });
      if (due.resend.length === 0) return t;
      let steps = t.steps;
      for (const n of due.resend) steps = markResent(dag, steps, n, at);
      const next = { ...t, steps };
      resent.push({ trial: next, names: due.resend });
      return next;
    });
    const out: AnyMessage[] = [];
    let p = p0;
    if (resent.length > 0) {
      p = await update(p, { state: toState({ ...s, trials }) });
      for (const r of resent) {
        logger.warn({ pipelineId: p.id, iteration: r.trial.iteration, steps: r.names }, 'no reply in time; command sent again');
        out.push(...commands(p, r.trial, r.names, null));
      }
    }
    for (const e of expired) {
      const trial = orchestration(p, dag).trials.find((t) => t.iteration === e.iteration);
      if (!trial || p.status !== 'running') continue;
      const d = spec(dag, e.step);
      const tries = trial.steps[e.step].attempts;
      const error = new StepTimeoutError({
        step: e.step,
        command: d.command,
        waitedFor: d.reply,
        seconds: Math.round(waitedMs(d, tries) / 1000),
        tries,
      });
      logger.warn({ pipelineId: p.id, iteration: e.iteration, step: e.step }, error.message);
      // Declared as the step's failure, handled as any stage's: the trial ends in a handler, so
      // what it leads to (the next trials, the end of the pipeline) is re-sent if its message
      // comes again, rather than lost if this process stops before publishing. Until it is
      // handled, each pass declares it again with the same id.
      const command = commands(p, trial, [e.step], null)[0]!;
      out.push(
        createMessage('STAGE_FAILED', {
          id: `${p.id}/${e.iteration}/${d.command}/timeout`,
          pipelineId: p.id,
          iteration: e.iteration,
          causationId: command.id,
          payload: {
            stage: STAGE_OF_STEP[e.step],
            failedType: d.command,
            failedMessageId: command.id,
            error: toWireError(error),
            ...(trial.configurationId ? { configurationId: trial.configurationId } : {}),
          },
        }),
      );
    }
    return out;
  }

  /**
   * One pass over the running pipelines. Runs at start-up (a restarted orchestrator continues
   * every pipeline from its saved state) and then periodically. A pipeline another replica or a
   * reply changed meanwhile is left for the next pass.
   */
  async function sweep(logger: Logger, include: (p: PipelineRecord) => boolean = () => true): Promise<AnyMessage[]> {
    const out: AnyMessage[] = [];
    for (const p of (await store.listPipelines({ status: 'running' })).filter(include)) {
      remember(p);
      try {
        out.push(...(await sweepPipeline(p, logger)));
      } catch (err) {
        if (!(err instanceof ConcurrencyConflictError)) throw err;
      }
    }
    return out;
  }

  return { dag, update, finishedMessage, resendFor, begin, onReply, endTrial, trialOf, finish, sweep };
}

export type Engine = ReturnType<typeof createEngine>;
