import { InvalidMessageError, parseStartMessage, type JsonObject } from '@apo/messages';
import type { NewSchedule, ScheduleRecord } from '@apo/store';
import { parseCron } from './cron.ts';
import { InvalidScheduleError } from './errors/invalid-schedule-error.ts';

/** What a person gives to add a schedule. */
export interface ScheduleInput {
  name: string;
  cron: string;
  timezone?: string | null;
  /** The start message, as JSON text or a value. */
  start: unknown;
}

// The name becomes part of each start's requestId (at most 200 characters) and is typed on the command line.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Checks a schedule before anything is written: the name, the cron expression and time zone
 * (it must fire at least once more), and the start message (as the orchestrator will parse it).
 * Returns the record to store, enabled, with its first run after `now`. Throws
 * `InvalidScheduleError` naming the field and its value.
 */
export function defineSchedule(input: ScheduleInput, now: Date): NewSchedule {
  if (!NAME.test(input.name)) {
    throw new InvalidScheduleError(
      `name: "${input.name}" must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  const timezone = input.timezone ?? null;
  const next = parseCron(input.cron, timezone).next(now);
  if (!next) throw new InvalidScheduleError(`cron: "${input.cron}" never fires after ${now.toISOString()}`);
  let start: unknown = input.start;
  if (typeof start === 'string') {
    try {
      start = JSON.parse(start);
    } catch (err) {
      throw new InvalidScheduleError(`start: not JSON: ${(err as Error).message}`);
    }
  }
  try {
    parseStartMessage(start);
  } catch (err) {
    if (err instanceof InvalidMessageError) throw new InvalidScheduleError(`start: ${err.message}`, { cause: err });
    throw err;
  }
  const fields = start as JsonObject;
  // Each tick sets both, so a start of its own would make every tick after the first a repeat.
  for (const field of ['requestId', 'schedule'] as const) {
    if (field in fields) {
      throw new InvalidScheduleError(`start.${field}: set by the scheduler on each tick; remove "${field}" from the start message`);
    }
  }
  return { name: input.name, cron: input.cron, timezone, start: fields, enabled: true, nextRunAt: next.toISOString() };
}

/** The start message the scheduler publishes for `schedule` at the tick `tickAt`. */
export function scheduledStart(schedule: Pick<ScheduleRecord, 'name' | 'start'>, tickAt: string): JsonObject {
  // The same id for the same tick from any replica: the orchestrator starts one pipeline per requestId.
  return { ...schedule.start, schedule: schedule.name, requestId: `${schedule.name}@${tickAt}` };
}

/**
 * The changes that resume a paused schedule: enabled, with the next run counted from `now`, so
 * the ticks missed while paused are skipped rather than caught up.
 */
export function resumeChanges(schedule: Pick<ScheduleRecord, 'cron' | 'timezone'>, now: Date): { enabled: true; nextRunAt: string | null } {
  return { enabled: true, nextRunAt: parseCron(schedule.cron, schedule.timezone).next(now)?.toISOString() ?? null };
}
