import type { JsonObject } from '@apo/messages';
import type { PipelineRecord } from '@apo/store';
import { markDone, markSent, newSteps, type Dag, type StepName, type StepStates } from './dag.ts';

/** One iteration in flight (a trial): what its replies brought so far, and where each step stands. */
export interface TrialState {
  iteration: number;
  configurationId: string | null;
  configuration: JsonObject | null;
  layerCount: number | null;
  modelUri: string | null;
  featuresUri: string | null;
  steps: StepStates;
}

/**
 * What the orchestrator keeps in `pipeline.state`: the trials still running (a finished trial
 * leaves; a reply for it then finds nothing) and the id of the message that ended the pipeline,
 * so that message's redelivery sends `PIPELINE_FINISHED` again.
 */
export interface OrchestrationState {
  trials: TrialState[];
  finishedBy: string | null;
}

export function orchestration(p: PipelineRecord, dag: Dag): OrchestrationState {
  const s = p.state as Partial<OrchestrationState>;
  if (!s.trials && p.status === 'running') return { trials: earlierTrials(p, dag), finishedBy: null };
  return { trials: s.trials ?? [], finishedBy: s.finishedBy ?? null };
}

/** What an orchestrator before trials kept of the one iteration in flight (`state.current`). */
interface EarlierCurrent {
  iteration: number;
  configurationId: string;
  configuration: JsonObject;
  layerCount: number;
  modelUri: string | null;
  featuresUri: string | null;
}

/**
 * The trial of a pipeline that was running when the orchestrator was upgraded from the version
 * without trials, read from what that one kept (`step`, `iteration`, `state.current`), so its
 * replies still in flight carry it on. Its commands count as sent when the pipeline was last
 * updated: one whose reply was lost is sent again when its step times out.
 */
function earlierTrials(p: PipelineRecord, dag: Dag): TrialState[] {
  if (p.iteration < 1 || !['configuring', 'building', 'training'].includes(p.step)) return [];
  const at = new Date(p.updatedAt);
  const raw = p.state['current'] as EarlierCurrent | undefined;
  const current = raw && raw.iteration === p.iteration ? raw : null;
  const trial = newTrial(dag, p.iteration);
  if (p.step === 'configuring' || !current) return [{ ...trial, steps: markSent(dag, trial.steps, ['configure'], null, at) }];
  let steps = markDone(trial.steps, 'configure');
  if (p.step === 'training') {
    steps = markSent(dag, markDone(markDone(steps, 'build'), 'prepare'), ['train'], null, at);
  } else {
    steps = markSent(dag, steps, ['build', 'prepare'], null, at);
    if (current.modelUri) steps = markDone(steps, 'build');
    if (current.featuresUri) steps = markDone(steps, 'prepare');
  }
  const { configurationId, configuration, layerCount, modelUri, featuresUri } = current;
  return [{ ...trial, configurationId, configuration, layerCount, modelUri, featuresUri, steps }];
}

export function toState(s: OrchestrationState): JsonObject {
  return s as unknown as JsonObject;
}

export function newTrial(dag: Dag, iteration: number): TrialState {
  return { iteration, configurationId: null, configuration: null, layerCount: null, modelUri: null, featuresUri: null, steps: newSteps(dag) };
}

const STEP_WORDS: Record<StepName, string> = { configure: 'configuring', build: 'building', prepare: 'building', train: 'training' };

/**
 * The pipeline's `step` as people read it (`configuring`, `building`, `training`): the furthest
 * sent step of each running trial, in iteration order, distinct.
 */
export function stepWord(trials: readonly TrialState[]): string {
  const words = trials.map((t) => {
    const sent = (['train', 'build', 'prepare', 'configure'] as const).find((n) => t.steps[n].status === 'sent');
    return STEP_WORDS[sent ?? 'configure'];
  });
  return [...new Set(words)].join(', ') || 'configuring';
}
