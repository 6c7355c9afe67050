import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PipelineError } from '@apo/messages';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.ts';
import { makeConfiguration, makePipeline, makeResultFor, makeSchedule, storeContractSuite } from './testing.ts';

const root = mkdtempSync(join(tmpdir(), 'apo-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

storeContractSuite('sqlite (memory)', async () => SqliteStore.open({ filename: ':memory:' }));

// One file for the whole suite, opened twice per test: the checks must hold on a store that other
// checks (and another connection) use at the same time, as a shared MongoDB database would be.
const sharedFile = join(root, 'contract.sqlite');
storeContractSuite('sqlite (file)', async () => SqliteStore.open({ filename: sharedFile }), { sharedStorage: true });

describe('SqliteStore', () => {
  const opened: SqliteStore[] = [];
  const open = (options: Parameters<typeof SqliteStore.open>[0]) => {
    const store = SqliteStore.open(options);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('creates the data directory and keeps store.sqlite in it', async () => {
    const dataDir = join(root, randomUUID(), 'nested');
    open({ dataDir });
    expect(existsSync(join(dataDir, 'store.sqlite'))).toBe(true);
  });

  it('uses WAL and a busy timeout on a file', () => {
    const filename = join(root, `${randomUUID()}.sqlite`);
    open({ filename });
    const db = new Database(filename, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('keeps everything across close and reopen', async () => {
    const dataDir = join(root, randomUUID());
    const first = SqliteStore.open({ dataDir });
    const pipeline = await first.createPipeline(makePipeline());
    const updated = await first.updatePipeline(pipeline.id, 1, { step: 'training', iteration: 1 });
    const configuration = makeConfiguration({ pipelineId: pipeline.id });
    await first.saveConfiguration(configuration);
    const result = makeResultFor(configuration);
    await first.saveResult(result);
    const schedule = await first.putSchedule(makeSchedule());
    await first.claimScheduleTick(schedule.name, '2030-01-01T00:00:00.000Z', 'replica-a', null);
    await first.markProcessed('consumer', 'message', new Date(Date.now() + 60_000));
    await first.close();
    await first.close();

    const second = open({ dataDir });
    expect(await second.getPipeline(pipeline.id)).toStrictEqual(updated);
    expect(await second.historyByLayerCount(configuration.datasetKey)).toStrictEqual([
      { layerCount: configuration.layerCount, entries: [{ configuration, result }] },
    ]);
    expect((await second.getSchedule(schedule.name))?.lockedBy).toBe('replica-a');
    expect(await second.claimScheduleTick(schedule.name, '2030-01-01T00:00:00.000Z', 'replica-b', null)).toBe(false);
    expect(await second.isProcessed('consumer', 'message')).toBe(true);
    expect(await second.markProcessed('consumer', 'message', new Date(Date.now() + 60_000))).toBe(false);
  });

  it('two instances on one file see each other and claim each tick once between them', async () => {
    const filename = join(root, `${randomUUID()}.sqlite`);
    const a = open({ filename });
    const b = open({ filename });
    const pipeline = await a.createPipeline(makePipeline());
    expect(await b.getPipeline(pipeline.id)).toStrictEqual(pipeline);
    const updated = await b.updatePipeline(pipeline.id, 1, { step: 'training' });
    expect(await a.getPipeline(pipeline.id)).toStrictEqual(updated);
    await expect(a.updatePipeline(pipeline.id, 1, { step: 'stale' })).rejects.toThrow(/expected version 1/);

    const schedule = await a.putSchedule(makeSchedule());
    let claimed = 0;
    for (let minute = 0; minute < 30; minute++) {
      const tick = new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
      const claims = await Promise.all([
        a.claimScheduleTick(schedule.name, tick, 'a', null),
        b.claimScheduleTick(schedule.name, tick, 'b', null),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      claimed += 1;
    }
    expect(claimed).toBe(30);
  });

  it('several processes on one file claim every tick once and lose no write', async () => {
    const filename = join(root, `${randomUUID()}.sqlite`);
    const setup = open({ filename });
    const schedule = await setup.putSchedule(makeSchedule());
    const ticks = 500;
    const worker = resolve(import.meta.dirname, '../test/sqlite-claim-process.ts');
    const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');
    const children = Array.from({ length: 4 }, (_, i) =>
      startProcess(process.execPath, [viteNode, worker, filename, schedule.name, `process-${i}`, String(ticks)]),
    );
    // Every process has opened the store before any starts, so they really run side by side.
    await Promise.all(children.map((c) => c.ready));
    const startAt = Date.now() + 300;
    for (const child of children) child.go(startAt);
    const reports = await Promise.all(children.map((c) => c.done));

    const won = reports.map((r) => JSON.parse(r) as { ticks: number[]; marks: number });
    expect(won.flatMap((w) => w.ticks).sort((x, y) => x - y)).toStrictEqual(Array.from({ length: ticks }, (_, i) => i));
    expect(won.reduce((sum, w) => sum + w.marks, 0)).toBe(ticks);
    expect(await setup.listResults({ pipelineId: schedule.name })).toHaveLength(ticks);
  }, 60_000);

  it('refuses a file whose schema is newer than it knows', () => {
    const filename = join(root, `${randomUUID()}.sqlite`);
    const db = new Database(filename);
    db.pragma('user_version = 99');
    db.close();
    expect(() => SqliteStore.open({ filename })).toThrow(PipelineError);
  });
});

/** A child process that prints `ready`, waits for a start time on stdin, then prints one JSON report. */
function startProcess(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolveReady) => (onReady = resolveReady));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolveDone, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolveDone(stdout.slice(stdout.indexOf('ready\n') + 'ready\n'.length));
      else reject(new Error(`claim process exited with ${code}:\n${stderr}${stdout}`));
    });
  });
  // A process that dies before it is ready must fail the test, not hang it.
  const readyOrDone = Promise.race([ready, done.then(() => undefined)]);
  return { ready: readyOrDone, done, go: (startAt: number) => child.stdin.write(`${startAt}\n`) };
}
