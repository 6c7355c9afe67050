import type { JsonObject } from '@apo/messages';
import type { PipelineRecord } from '@apo/store';

/** What the orchestrator keeps about the iteration in flight (in `pipeline.state.current`). */
export interface IterationState {
  iteration: number;
  configurationId: string;
  configuration: JsonObject;
  layerCount: number;
  modelUri: string | null;
  featuresUri: string | null;
}

/** The iteration in flight, if the pipeline has a configuration for it. */
export function currentIteration(p: PipelineRecord): IterationState | null {
  const current = p.state['current'] as IterationState | undefined;
  return current && current.iteration === p.iteration ? current : null;
}

export function withCurrent(p: PipelineRecord, current: IterationState): JsonObject {
  return { ...p.state, current: current as unknown as JsonObject };
}
