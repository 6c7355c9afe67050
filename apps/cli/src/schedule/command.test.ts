import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryBus } from '@apo/bus';
import { Topics } from '@apo/messages';
import { silentLogger } from '@apo/runtime';
import { Scheduler } from '@apo/scheduler';
import { SqliteStore } from '@apo/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../program.ts';

const START = '{"kpi":"accuracy>=0.9","dataset":"builtin:iris","budget":{"maxIterations":2}}';
let root: string;
let dataDir: string;

async function apo(...args: string[]) {
  let out = '';
  let err = '';
  const code = await run(['node', 'apo', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const schedule = (...args: string[]) => apo('schedule', ...args, '--data-dir', dataDir);

async function listed() {
  return JSON.parse((await schedule('list', '--json')).out) as { name: string; enabled: boolean; nextRunAt: string }[];
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'apo-schedule-cli-'));
  dataDir = join(root, 'data');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('apo schedule', () => {
  it('adds, lists, pauses, resumes and removes a schedule', async () => {
    const added = await schedule('add', 'nightly', '--cron', '0 2 * * *', '--timezone', 'Europe/Berlin', '--start', START);
    expect(added).toMatchObject({ code: 0, err: '' });
    expect(added.out).toMatch(/^schedule nightly: "0 2 \* \* \*" \(Europe\/Berlin\), next run \d{4}-\d\d-\d\dT\d\d:00:00\.000Z\n$/);

    const table = await schedule('list');
    expect(table.out).toMatch(/^name\s+cron\s+timezone\s+state\s+next run\s+last tick\n/);
    expect(table.out).toMatch(/^nightly\s+0 2 \* \* \*\s+Europe\/Berlin\s+active\s+\d{4}-/m);
    expect(await listed()).toMatchObject([{ name: 'nightly', enabled: true, start: JSON.parse(START) }]);

    expect(await schedule('pause', 'nightly')).toMatchObject({ code: 0, out: 'schedule nightly paused\n' });
    expect((await schedule('list')).out).toMatch(/^nightly\s+.*\s+paused\s+-\s+-$/m);
    expect((await schedule('resume', 'nightly')).out).toMatch(/^schedule nightly resumed, next run \d{4}-/);
    expect(await listed()).toMatchObject([{ name: 'nightly', enabled: true }]);

    expect(await schedule('remove', 'nightly')).toMatchObject({ code: 0, out: 'schedule nightly removed\n' });
    expect((await schedule('list')).out).toBe('no schedules\n');
  });

  it('refuses a bad cron expression or start message, naming the field, and writes nothing', async () => {
    const badCron = await schedule('add', 'nightly', '--cron', '0 25 * * *', '--start', START);
    expect(badCron.code).toBe(2);
    expect(badCron.err).toMatch(/^cron: "0 25 \* \* \*" is not a cron expression .*hour/);
    // Refused before the store is opened: not even the data directory exists.
    expect(existsSync(dataDir)).toBe(false);

    await schedule('add', 'kept', '--cron', '* * * * *', '--start', START);
    const refusals = [
      [['--cron', 'at two', '--start', START], /^cron: "at two" is not a cron expression/],
      [['--cron', '0 2 * * *', '--timezone', 'Berlin', '--start', START], /^timezone: "Berlin" is not an IANA time zone/],
      [['--cron', '0 2 * * *', '--start', '{"kpi":"accuracy>=0.9",'], /^start: not JSON/],
      [['--cron', '0 2 * * *', '--start', '{"kpi":"rmse>=3","dataset":"builtin:diabetes"}'], /^start: invalid start message: kpi: rmse is minimised/],
      [['--cron', '0 2 * * *', '--start', '{"kpi":"accuracy>=0.9","datset":"builtin:iris"}'], /^start: invalid start message: .*datset/],
    ] as const;
    for (const [args, message] of refusals) {
      const refused = await schedule('add', 'nightly', ...args);
      expect(refused.code, refused.err).toBe(2);
      expect(refused.err).toMatch(message);
    }
    expect((await listed()).map((s) => s.name)).toEqual(['kept']);
  });

  it('does not replace a schedule unless asked, and names an unknown one', async () => {
    await schedule('add', 'nightly', '--cron', '0 2 * * *', '--start', START);
    const again = await schedule('add', 'nightly', '--cron', '0 3 * * *', '--start', START);
    expect(again).toMatchObject({ code: 2, err: 'schedule "nightly" exists; pass --replace to replace it\n' });
    expect(await schedule('add', 'nightly', '--cron', '0 3 * * *', '--start', START, '--replace')).toMatchObject({ code: 0 });
    expect(await listed()).toMatchObject([{ name: 'nightly', cron: '0 3 * * *' }]);

    for (const verb of ['remove', 'pause', 'resume']) {
      expect(await schedule(verb, 'weekly')).toMatchObject({ code: 2, err: 'no schedule named "weekly" (apo schedule list shows them)\n' });
    }
  });

  it('the scheduler starts what the CLI added, stops on pause and continues on resume', async () => {
    await schedule('add', 'minutely', '--cron', '* * * * *', '--start', START);
    const store = SqliteStore.open({ dataDir });
    const bus = new InMemoryBus();
    const starts: { schedule: string; requestId: string }[] = [];
    await bus.subscribe({ groupId: 'observer', topics: [Topics.workflow], handler: async (r) => void starts.push(JSON.parse(r.value)) });
    let now = new Date((await listed())[0]!.nextRunAt);
    const scheduler = new Scheduler({ store, bus, logger: silentLogger(), owner: 'test', clock: { now: () => now } });
    const minuteLater = async () => {
      await scheduler.tick();
      await bus.whenIdle();
      now = new Date(now.getTime() + 60_000);
    };
    try {
      await minuteLater();
      expect(starts).toMatchObject([{ schedule: 'minutely' }]);
      await schedule('pause', 'minutely');
      await minuteLater();
      await minuteLater();
      expect(starts).toHaveLength(1);
      // Resume counts from the real time, which the test clock is ahead of: the next tick starts one.
      await schedule('resume', 'minutely');
      await minuteLater();
      expect(starts.map((s) => s.schedule)).toEqual(['minutely', 'minutely']);
      expect(new Set(starts.map((s) => s.requestId)).size).toBe(2);
    } finally {
      await bus.close();
      await store.close();
    }
  });
});
