import { Cron } from 'croner';
import { InvalidScheduleError } from './errors/invalid-schedule-error.ts';

/** When a cron expression fires. */
export interface CronSchedule {
  /** The first firing strictly after `after`, or null if it never fires again. */
  next(after: Date): Date | null;
}

/**
 * Parses a five-field cron expression (minute hour day month weekday, or a nickname such as
 * `@daily`), read in `timezone` (an IANA name; UTC when null). Throws `InvalidScheduleError`
 * naming the field and the value.
 */
export function parseCron(cron: string, timezone: string | null): CronSchedule {
  if (timezone !== null) {
    try {
      // Intl knows the IANA names croner accepts; croner itself only fails later, at nextRun.
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw new InvalidScheduleError(`timezone: "${timezone}" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")`);
    }
  }
  let pattern: Cron;
  try {
    pattern = new Cron(cron, { timezone: timezone ?? 'UTC', mode: '5-part', paused: true });
  } catch (err) {
    throw new InvalidScheduleError(`cron: "${cron}" is not a cron expression (minute hour day month weekday): ${(err as Error).message}`, { cause: err });
  }
  return { next: (after) => pattern.nextRun(after) };
}
