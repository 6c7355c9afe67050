import type { JsonObject } from '@apo/messages';
import type { PipelineRecord } from '@apo/store';
import { newSteps, type Dag, type StepName, type StepStates } from './dag.ts';

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

export function orchestration(p: PipelineRecord): OrchestrationState {
  const s = p.state as Partial<OrchestrationState>;
  return { trials: s.trials ?? [], finishedBy: s.finishedBy ?? null };
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
