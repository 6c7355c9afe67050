import type { Bus } from '@apo/bus';
import { START_TYPE, Topics } from '@apo/messages';
import type { Logger } from '@apo/runtime';
import type { ScheduleRecord, Store } from '@apo/store';
import { parseCron, type CronSchedule } from './cron.ts';
import { defineSchedule, scheduledStart } from './definition.ts';

/** The time source; tests move it by hand. */
export interface Clock {
  now(): Date;
}

/** Runs `fn` once after `ms`; tests keep the callback and call it themselves. */
export type Timer = (fn: () => void, ms: number) => { cancel(): void };

export const systemClock: Clock = { now: () => new Date() };

export const systemTimer: Timer = (fn, ms) => {
  const handle = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(handle) };
};

export interface SchedulerOptions {
  store: Store;
  bus: Bus;
  logger: Logger;
  /** Names this replica in each claim it wins (host and process, say). */
  owner: string;
  /** Time between ticks (default 15 s); a cron minute is never missed, only started late. */
  intervalMs?: number;
  clock?: Clock;
  timer?: Timer;
}

/** A start published on one tick. */
export interface ScheduledStart {
  schedule: string;
  tickAt: string;
  requestId: string;
}

/**
 * Starts pipelines on the schedules in the store. On each tick it looks at every enabled
 * schedule whose next run has come, claims that run in the store, and only the replica that
 * wins the claim publishes the start message: one start per tick however many replicas run.
 * The next run is counted from now, not from the run that was due, so after a downtime a
 * schedule gets one catch-up start instead of one per missed tick.
 */
export class Scheduler {
  private readonly store: Store;
  private readonly bus: Bus;
  private readonly logger: Logger;
  private readonly owner: string;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly timer: Timer;
  private pending: { cancel(): void } | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.logger = options.logger;
    this.owner = options.owner;
    this.intervalMs = options.intervalMs ?? 15_000;
    this.clock = options.clock ?? systemClock;
    this.timer = options.timer ?? systemTimer;
  }

  /** Ticks now and then every `intervalMs` after the previous tick ends, until `stop`. */
  start(): void {
    this.stopped = false;
    this.loop();
  }

  /** Stops ticking and waits for the tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending?.cancel();
    this.pending = null;
    await this.running;
  }

  /** One pass over the schedules; returns the starts this replica published. */
  async tick(): Promise<ScheduledStart[]> {
    const now = this.clock.now();
    const published: ScheduledStart[] = [];
    for (const schedule of await this.store.listSchedules()) {
      if (!schedule.enabled) continue;
      try {
        const start = await this.fire(schedule, now);
        if (start) published.push(start);
      } catch (err) {
        // One broken schedule must not hold back the others.
        this.logger.error({ err, schedule: schedule.name }, 'schedule skipped');
      }
    }
    return published;
  }

  private loop(): void {
    if (this.stopped) return;
    const run = this.tick()
      .catch((err: unknown) => this.logger.error({ err }, 'scheduler tick failed; trying again next tick'))
      .finally(() => {
        this.running = null;
        if (!this.stopped) this.pending = this.timer(() => this.loop(), this.intervalMs);
      });
    this.running = run;
  }

  private async fire(schedule: ScheduleRecord, now: Date): Promise<ScheduledStart | null> {
    const cron = parseCron(schedule.cron, schedule.timezone);
    const due = dueAt(schedule, cron);
    if (!due || due.getTime() > now.getTime()) return null;
    const tickAt = due.toISOString();
    const next = cron.next(now)?.toISOString() ?? null;
    // A start that no longer parses (the schedule was written around the CLI) is refused before claiming.
    defineSchedule({ name: schedule.name, cron: schedule.cron, timezone: schedule.timezone, start: schedule.start }, now);
    if (!(await this.store.claimScheduleTick(schedule.name, tickAt, this.owner, next))) return null;
    const start = scheduledStart(schedule, tickAt);
    const requestId = start['requestId'] as string;
    try {
      await this.bus.publish(Topics.workflow, [{ key: requestId, value: JSON.stringify(start), headers: { type: START_TYPE } }]);
    } catch (err) {
      // The claim is taken, so no replica will send this tick again: say so loudly.
      this.logger.error({ err, schedule: schedule.name, tickAt, nextRunAt: next }, 'start of a claimed tick could not be published; it is lost');
      throw err;
    }
    this.logger.info({ schedule: schedule.name, tickAt, requestId, nextRunAt: next, late: now.getTime() - due.getTime() }, 'pipeline started');
    return { schedule: schedule.name, tickAt, requestId };
  }
}

/**
 * The run that is due next. `nextRunAt` as stored, unless it is missing or not after the last
 * claimed tick (written by hand, or by an old read racing a claim): then the first run after the
 * last tick, or after creation. Every replica computes the same instant, so they claim the same tick.
 */
function dueAt(schedule: ScheduleRecord, cron: CronSchedule): Date | null {
  const stored = schedule.nextRunAt ? new Date(schedule.nextRunAt) : null;
  const last = schedule.lastTickAt ? new Date(schedule.lastTickAt) : null;
  if (stored && (!last || stored.getTime() > last.getTime())) return stored;
  return cron.next(last ?? new Date(schedule.createdAt));
}
