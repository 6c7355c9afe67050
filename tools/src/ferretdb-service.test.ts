import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FERRETDB_VERSION, ferretDbBinary, installFerretDb, startFerretDb } from '../services/ferretdb.mjs';

const script = resolve(import.meta.dirname, '../services/ferretdb.mjs');
// The CLI keeps its state under the cache; a cache of its own (with the built binary linked in)
// keeps these tests away from a FerretDB a developer started.
const cache = mkdtempSync(join(tmpdir(), 'apo-ferretdb-cli-'));

function cli(command: string) {
  const run = spawnSync(process.execPath, [script, command], {
    encoding: 'utf8',
    env: { ...process.env, APO_SERVICES_CACHE: cache },
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

async function ping(uri: string): Promise<number> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2_000 });
  try {
    return (await client.db('admin').command({ ping: 1 }))['ok'] as number;
  } finally {
    await client.close();
  }
}

beforeAll(() => {
  const binary = installFerretDb();
  const linked = join(cache, `ferretdb-${FERRETDB_VERSION}`, 'bin');
  mkdirSync(linked, { recursive: true });
  symlinkSync(binary, join(linked, 'ferretdb'));
}, 600_000);

afterAll(() => {
  cli('stop');
  rmSync(cache, { recursive: true, force: true });
});

describe(`the local FerretDB ${FERRETDB_VERSION}`, () => {
  it('start prints a MONGODB_URI that answers, status shows it, stop ends it and deletes its data', async () => {
    const started = cli('start');
    expect(started.code, started.stderr).toBe(0);
    const uri = /^MONGODB_URI=(mongodb:\/\/127\.0\.0\.1:\d+\/)$/.exec(started.stdout)?.[1];
    expect(uri, started.stdout).toBeDefined();
    expect(await ping(uri!)).toBe(1);

    // A second start finds it running and prints the same address.
    expect(cli('start').stdout).toBe(`MONGODB_URI=${uri}`);
    const status = cli('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(uri!);

    const { dataDir } = JSON.parse(readFileSync(join(cache, 'run', 'ferretdb.json'), 'utf8')) as { dataDir: string };
    expect(existsSync(dataDir)).toBe(true);
    expect(cli('stop').stdout).toBe('FerretDB stopped');
    expect(existsSync(dataDir)).toBe(false);
    await expect(ping(uri!)).rejects.toThrow();
    expect(cli('status')).toMatchObject({ code: 1, stdout: 'not running' });
  }, 60_000);

  it('keeps what was written across a restart on the same data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'apo-ferretdb-keep-'));
    try {
      const first = await startFerretDb({ dataDir });
      const client = new MongoClient(first.uri);
      await client.db('kept').collection('pipelines').insertOne({ _id: 'p1', status: 'running' } as never);
      await client.close();
      await first.stop();
      expect(existsSync(dataDir)).toBe(true);

      const second = await startFerretDb({ dataDir });
      try {
        const again = new MongoClient(second.uri);
        expect(await again.db('kept').collection('pipelines').findOne({ _id: 'p1' } as never)).toStrictEqual({
          _id: 'p1',
          status: 'running',
        });
        await again.close();
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is built once into the cache', () => {
    expect(existsSync(ferretDbBinary())).toBe(true);
    const version = spawnSync(ferretDbBinary(), ['--version'], { encoding: 'utf8' });
    expect(version.stdout).toContain(`version: ${FERRETDB_VERSION}`);
    expect(version.stdout).toContain('debugBuild: false');
  });
});
