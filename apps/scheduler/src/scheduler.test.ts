import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryBus } from '@apo/bus';
import { Topics, parseStartMessage } from '@apo/messages';
import { silentLogger } from '@apo/runtime';
import { SqliteStore, type Store } from '@apo/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineSchedule, resumeChanges } from './definition.ts';
import { InvalidScheduleError } from './errors/invalid-schedule-error.ts';
import { Scheduler, type Timer } from './scheduler.ts';

const START = { kpi: 'accuracy>=0.9', dataset: 'builtin:iris', budget: { maxIterations: 3 } };
const at = (iso: string) => new Date(iso);

let dir: string;
let bus: InMemoryBus;
let stores: Store[];
let starts: Record<string, unknown>[];
let clock: { time: Date; now(): Date };

/** Two replicas, each with its own connection to one SQLite file, on one bus and one clock. */
function replicas(): [Scheduler, Scheduler, Store] {
  const [a, b] = [SqliteStore.open({ dataDir: dir }), SqliteStore.open({ dataDir: dir })];
  stores.push(a, b);
  const make = (store: Store, owner: string) => new Scheduler({ store, bus, logger: silentLogger(), owner, clock });
  return [make(a, 'replica-a'), make(b, 'replica-b'), a];
}

/** Both replicas tick at the same moment, twice each: a tick run again finds nothing more to start. */
async function tickBoth(a: Scheduler, b: Scheduler, iso: string): Promise<void> {
  clock.time = at(iso);
  await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
  await bus.whenIdle();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apo-scheduler-'));
  bus = new InMemoryBus();
  stores = [];
  starts = [];
  clock = { time: at('2030-01-01T00:00:30Z'), now: () => clock.time };
  await bus.subscribe({
    groupId: 'observer',
    topics: [Topics.workflow],
    handler: async (record) => void starts.push(JSON.parse(record.value) as Record<string, unknown>),
  });
});

afterEach(async () => {
  await bus.close();
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Scheduler', () => {
  it('starts a schedule every minute exactly once per tick across two replicas', async () => {
    const [a, b, store] = replicas();
    await store.putSchedule(defineSchedule({ name: 'every-minute', cron: '* * * * *', start: START }, clock.now()));

    await tickBoth(a, b, '2030-01-01T00:00:45Z');
    expect(starts).toHaveLength(0);
    for (const minute of [1, 2, 3, 4, 5]) await tickBoth(a, b, `2030-01-01T00:0${minute}:00.250Z`);

    expect(starts.map((s) => s['requestId'])).toEqual([1, 2, 3, 4, 5].map((m) => `every-minute@2030-01-01T00:0${m}:00.000Z`));
    for (const start of starts) {
      expect(start).toMatchObject({ ...START, schedule: 'every-minute' });
      expect(parseStartMessage(start).schedule).toBe('every-minute');
    }
    expect(await store.getSchedule('every-minute')).toMatchObject({
      lastTickAt: '2030-01-01T00:05:00.000Z',
      nextRunAt: '2030-01-01T00:06:00.000Z',
      lockedBy: expect.stringMatching(/^replica-[ab]$/),
    });
  });

  it('gives one catch-up start after a downtime of several ticks, then keeps the cadence', async () => {
    const [a, b, store] = replicas();
    await store.putSchedule(defineSchedule({ name: 'nightly-ish', cron: '* * * * *', start: START }, clock.now()));

    // Down from 00:00:30 to 00:07:20: the ticks 00:01 to 00:07 were missed.
    await tickBoth(a, b, '2030-01-01T00:07:20Z');
    expect(starts.map((s) => s['requestId'])).toEqual(['nightly-ish@2030-01-01T00:01:00.000Z']);
    expect((await store.getSchedule('nightly-ish'))?.nextRunAt).toBe('2030-01-01T00:08:00.000Z');

    await tickBoth(a, b, '2030-01-01T00:07:50Z');
    await tickBoth(a, b, '2030-01-01T00:08:01Z');
    expect(starts.map((s) => s['requestId'])).toEqual([
      'nightly-ish@2030-01-01T00:01:00.000Z',
      'nightly-ish@2030-01-01T00:08:00.000Z',
    ]);
  });

  it('starts nothing while paused, and continues from now once resumed', async () => {
    const [a, b, store] = replicas();
    const schedule = await store.putSchedule(defineSchedule({ name: 'pausable', cron: '* * * * *', start: START }, clock.now()));
    await tickBoth(a, b, '2030-01-01T00:01:00Z');
    expect(starts).toHaveLength(1);

    await store.updateSchedule('pausable', { enabled: false });
    for (const minute of [2, 3, 4]) await tickBoth(a, b, `2030-01-01T00:0${minute}:00Z`);
    expect(starts).toHaveLength(1);

    clock.time = at('2030-01-01T00:04:30Z');
    await store.updateSchedule('pausable', resumeChanges(schedule, clock.now()));
    await tickBoth(a, b, '2030-01-01T00:04:40Z');
    expect(starts).toHaveLength(1);
    await tickBoth(a, b, '2030-01-01T00:05:00Z');
    expect(starts.map((s) => s['requestId'])).toEqual(['pausable@2030-01-01T00:01:00.000Z', 'pausable@2030-01-01T00:05:00.000Z']);
  });

  it('reads the cron expression in the schedule time zone', async () => {
    const [a, b, store] = replicas();
    await store.putSchedule(
      defineSchedule({ name: 'berlin-2am', cron: '0 2 * * *', timezone: 'Europe/Berlin', start: START }, clock.now()),
    );
    // 02:00 in Berlin is 01:00 UTC in winter.
    expect((await store.getSchedule('berlin-2am'))?.nextRunAt).toBe('2030-01-01T01:00:00.000Z');
    await tickBoth(a, b, '2030-01-01T00:59:59Z');
    expect(starts).toHaveLength(0);
    await tickBoth(a, b, '2030-01-01T01:00:00Z');
    expect(starts.map((s) => s['requestId'])).toEqual(['berlin-2am@2030-01-01T01:00:00.000Z']);
  });

  it('a schedule that cannot be read does not hold back the others', async () => {
    const [a, b, store] = replicas();
    await store.putSchedule({ ...defineSchedule({ name: 'broken', cron: '* * * * *', start: START }, clock.now()), cron: '61 * * * *' });
    await store.putSchedule(defineSchedule({ name: 'fine', cron: '* * * * *', start: START }, clock.now()));
    await tickBoth(a, b, '2030-01-01T00:01:00Z');
    expect(starts.map((s) => s['schedule'])).toEqual(['fine']);
  });

  it('a schedule stored without a next run fires at the first tick after it was created', async () => {
    const [a, b, store] = replicas();
    await store.putSchedule({ ...defineSchedule({ name: 'no-next', cron: '* * * * *', start: START }, clock.now()), nextRunAt: null });
    // createdAt is the real time the record was written; the clock is moved past its next minute.
    const createdAt = new Date((await store.getSchedule('no-next'))!.createdAt);
    const firstTick = new Date(Math.floor(createdAt.getTime() / 60_000) * 60_000 + 60_000);
    await tickBoth(a, b, new Date(firstTick.getTime() + 1_000).toISOString());
    expect(starts.map((s) => s['requestId'])).toEqual([`no-next@${firstTick.toISOString()}`]);
  });

  it('ticks on its timer until stopped', async () => {
    const [, , store] = replicas();
    await store.putSchedule(defineSchedule({ name: 'timed', cron: '* * * * *', start: START }, clock.now()));
    const armed: { fn: () => void; ms: number; cancelled: boolean }[] = [];
    const timer: Timer = (fn, ms) => {
      const entry = { fn, ms, cancelled: false };
      armed.push(entry);
      return { cancel: () => void (entry.cancelled = true) };
    };
    const scheduler = new Scheduler({ store, bus, logger: silentLogger(), owner: 'timed', clock, timer, intervalMs: 5_000 });
    scheduler.start();
    await expect.poll(() => armed.length).toBe(1);
    expect(armed[0]!.ms).toBe(5_000);

    clock.time = at('2030-01-01T00:01:00Z');
    armed[0]!.fn();
    await expect.poll(() => armed.length).toBe(2);
    await bus.whenIdle();
    expect(starts.map((s) => s['requestId'])).toEqual(['timed@2030-01-01T00:01:00.000Z']);

    await scheduler.stop();
    expect(armed[1]!.cancelled).toBe(true);
  });
});

describe('defineSchedule', () => {
  const now = at('2030-01-01T00:00:30Z');
  const refusal = (input: Parameters<typeof defineSchedule>[0]) => {
    try {
      defineSchedule(input, now);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidScheduleError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('gives an enabled schedule with its first run', () => {
    expect(defineSchedule({ name: 'nightly', cron: '0 2 * * *', start: JSON.stringify(START) }, now)).toStrictEqual({
      name: 'nightly',
      cron: '0 2 * * *',
      timezone: null,
      start: START,
      enabled: true,
      nextRunAt: '2030-01-01T02:00:00.000Z',
    });
  });

  it('names the bad field and its value', () => {
    expect(refusal({ name: 'n', cron: '61 * * * *', start: START })).toMatch(/^cron: "61 \* \* \* \*" is not a cron expression .*: Invalid value for minute: 61/);
    expect(refusal({ name: 'n', cron: 'every day', start: START })).toMatch(/^cron: "every day" is not a cron expression/);
    expect(refusal({ name: 'n', cron: '0 0 30 2 *', start: START })).toMatch(/^cron: "0 0 30 2 \*" never fires/);
    expect(refusal({ name: 'n', cron: '0 2 * * *', timezone: 'Mars/Olympus', start: START })).toMatch(/^timezone: "Mars\/Olympus" is not an IANA time zone/);
    expect(refusal({ name: 'two words', cron: '0 2 * * *', start: START })).toMatch(/^name: "two words" must be/);
    expect(refusal({ name: 'n', cron: '0 2 * * *', start: '{"kpi":' })).toMatch(/^start: not JSON/);
    expect(refusal({ name: 'n', cron: '0 2 * * *', start: { ...START, kpi: 'rmse>=3' } })).toMatch(/^start: invalid start message: kpi: /);
    expect(refusal({ name: 'n', cron: '0 2 * * *', start: { ...START, requestId: 'r' } })).toMatch(/^start\.requestId: set by the scheduler/);
  });
});
