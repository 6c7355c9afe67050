import type { PipelineChanges, ScheduleRecord } from './records.ts';

/** What `Store.updateSchedule` may change. */
export type ScheduleChanges = Partial<Pick<ScheduleRecord, 'enabled' | 'nextRunAt' | 'cron' | 'timezone' | 'start'>>;

// Spelled as objects so the compiler checks each list names every changeable field and no other;
// every adapter applies exactly these.
export const PIPELINE_CHANGEABLE: readonly string[] = Object.keys({
  status: true,
  step: true,
  iteration: true,
  kpi: true,
  budget: true,
  dataset: true,
  profile: true,
  task: true,
  strategy: true,
  seed: true,
  split: true,
  parallelism: true,
  requestId: true,
  schedule: true,
  best: true,
  outcome: true,
  reason: true,
  error: true,
  consecutiveFailures: true,
  llmTokens: true,
  state: true,
  finishedAt: true,
} satisfies Record<keyof PipelineChanges, true>);

export const SCHEDULE_CHANGEABLE: readonly string[] = Object.keys({
  enabled: true,
  nextRunAt: true,
  cron: true,
  timezone: true,
  start: true,
} satisfies Record<keyof ScheduleChanges, true>);

/** The fields of `changes` to write: allowed ones only, and `undefined` means "leave as it is". */
export function changedFields(changes: object, allowed: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(changes).filter(([field, value]) => value !== undefined && allowed.includes(field)));
}
