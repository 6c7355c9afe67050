#!/usr/bin/env node
// FerretDB (MongoDB wire protocol over SQLite) on loopback, for tests and for trying the
// distributed form without Docker or a MongoDB server:
//
//   node tools/services/ferretdb.mjs install   build it into the cache once
//   node tools/services/ferretdb.mjs start     start one, print MONGODB_URI=..., leave it running
//   node tools/services/ferretdb.mjs status    its address, or "not running"
//   node tools/services/ferretdb.mjs stop      stop it and delete its data
//
// Tests use `useFerretDb()` (through `ferretdb.setup.mjs`): it reuses $MONGODB_URI when set.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { cacheDir, freePort, isAlive, runOrThrow, stateFile, waitUntil } from './common.mjs';

export const FERRETDB_VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const INSTALL_LOCK_STALE_MS = 15 * 60_000;

/** Where the built binary lives. */
export function ferretDbBinary() {
  return join(cacheDir(`ferretdb-${FERRETDB_VERSION}`), 'bin', 'ferretdb');
}

function chmodWritable(path) {
  const info = statSync(path);
  chmodSync(path, info.mode | 0o200);
  if (info.isDirectory()) for (const entry of readdirSync(path)) chmodWritable(join(path, entry));
}

/**
 * Builds FerretDB from the Go module proxy into the cache, once; returns the binary's path.
 *
 * Not a plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: the module zip
 * leaves out the generated `build/version/version.txt`, and a binary built without it panics at
 * start ("Invalid build/version/version.txt file content"). So the module source is copied out of
 * the module cache, that file written, and `go build` run on the copy. No build tags are needed
 * (the SQLite backend is in the default build; `ferretdb_debug` would make a slower debug build).
 * CGO_ENABLED=0 because the SQLite driver (modernc.org/sqlite) is pure Go: no C compiler needed.
 * GOTOOLCHAIN=local: the module asks for Go 1.24, which any newer local Go builds.
 * About 1.5-2 minutes on a cold cache (module downloads included), nothing afterwards.
 */
export function installFerretDb({ log = (message) => process.stderr.write(`${message}\n`) } = {}) {
  const binary = ferretDbBinary();
  const home = cacheDir(`ferretdb-${FERRETDB_VERSION}`);
  // Test projects run side by side and each may install on a cold cache: one builds, the others
  // wait for its binary (a lock left by an install that died is taken over after a while).
  const lock = join(home, 'install.lock');
  for (;;) {
    if (existsSync(binary)) return binary;
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue;
    }
    if (age > INSTALL_LOCK_STALE_MS) rmSync(lock, { force: true });
    else sleepSync(1_000);
  }
  try {
    if (!existsSync(binary)) build(binary, home, log);
  } finally {
    rmSync(lock, { force: true });
  }
  return binary;
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function build(binary, home, log) {
  const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', GOWORK: 'off' };
  log(`installing FerretDB ${FERRETDB_VERSION} from the Go module proxy into ${home} ...`);
  const started = Date.now();
  const download = JSON.parse(runOrThrow('go', ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`], { cwd: home, env }));
  // A directory per attempt, so two test runs installing at once do not build over each other.
  const source = mkdtempSync(join(home, 'src-'));
  try {
    cpSync(download.Dir, source, { recursive: true });
    chmodWritable(source);
    writeFileSync(join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    writeFileSync(join(source, 'build', 'version', 'package.txt'), 'adaptive-pipeline-tools\n');
    const built = join(source, 'ferretdb.bin');
    runOrThrow('go', ['build', '-trimpath', '-o', built, './cmd/ferretdb'], { cwd: source, env });
    // The rename is atomic, so a concurrent install or start sees no binary or a whole one.
    cacheDir(`ferretdb-${FERRETDB_VERSION}`, 'bin');
    renameSync(built, binary);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
  log(`FerretDB ${FERRETDB_VERSION} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function logTail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function answersPing(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close();
  }
}

async function stopProcess(pid) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Starts a FerretDB on a free loopback port with its data in `dataDir` (a fresh temporary
 * directory by default, deleted by `stop()`; a given one is kept). Resolves once it answers a
 * MongoDB `ping`. `detached` leaves it running after this process exits (the CLI's `start`).
 */
export async function startFerretDb({ dataDir, detached = false } = {}) {
  const binary = installFerretDb();
  const ownDataDir = dataDir === undefined;
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'apo-ferretdb-'));
  const sqliteDir = join(dir, 'sqlite');
  // A given data directory keeps what an earlier run wrote there.
  mkdirSync(sqliteDir, { recursive: true });
  const port = await freePort();
  const debugPort = await freePort();
  const logFile = join(dir, 'ferretdb.log');
  const out = openSync(logFile, 'a');
  const args = [
    '--handler=sqlite',
    // A directory URI: FerretDB keeps one SQLite file per database in it; the slash matters.
    `--sqlite-url=${pathToFileURL(sqliteDir).href}/`,
    `--state-dir=${dir}`,
    `--listen-addr=127.0.0.1:${port}`,
    `--debug-addr=127.0.0.1:${debugPort}`,
    '--telemetry=disable',
    '--log-level=warn',
  ];
  const child = spawn(binary, args, { cwd: dir, detached, stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  child.unref();
  const uri = `mongodb://127.0.0.1:${port}/`;
  const started = Date.now();
  try {
    await waitUntil(
      async () => {
        if (exited) throw new Error(`ferretdb exited (${exited.code ?? exited.signal}) before it answered`);
        return answersPing(uri);
      },
      START_TIMEOUT_MS,
      `FerretDB on ${uri}`,
    );
  } catch (err) {
    await stopProcess(child.pid);
    const tail = logTail(logFile);
    if (ownDataDir) rmSync(dir, { recursive: true, force: true });
    throw new Error(`${err.message}\n--- ${logFile} (last lines) ---\n${tail}`, { cause: err });
  }
  const startMs = Date.now() - started;
  return {
    uri,
    pid: child.pid,
    port,
    dataDir: dir,
    logFile,
    startMs,
    ownDataDir,
    async stop() {
      await stopProcess(child.pid);
      if (ownDataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stops the FerretDB that the CLI's `start` left running, and deletes its data. */
export async function stopFerretDb() {
  const state = stateFile('ferretdb');
  const running = state.read();
  if (!running) return false;
  await stopProcess(running.pid);
  if (running.dataDir) rmSync(running.dataDir, { recursive: true, force: true });
  state.remove();
  return true;
}

/** The FerretDB the CLI's `start` left running, if it still runs. */
export function ferretDbStatus() {
  const running = stateFile('ferretdb').read();
  return running && isAlive(running.pid) ? running : null;
}

/**
 * A MongoDB-compatible server for tests: `$MONGODB_URI` when set (then `stop` does nothing, the
 * server is someone else's), else a FerretDB started for this run.
 */
export async function useFerretDb() {
  const given = process.env.MONGODB_URI;
  if (given) return { uri: given, stop: async () => undefined };
  const server = await startFerretDb();
  return { uri: server.uri, stop: () => server.stop() };
}

async function main(command) {
  switch (command) {
    case 'install':
      console.log(installFerretDb());
      return 0;
    case 'start': {
      const running = ferretDbStatus();
      if (running) {
        console.log(`MONGODB_URI=${running.uri}`);
        return 0;
      }
      const server = await startFerretDb({ dataDir: mkdtempSync(join(tmpdir(), 'apo-ferretdb-')), detached: true });
      stateFile('ferretdb').write({ pid: server.pid, port: server.port, uri: server.uri, dataDir: server.dataDir, logFile: server.logFile });
      console.error(`FerretDB ${FERRETDB_VERSION} answered in ${server.startMs} ms (pid ${server.pid}, log ${server.logFile})`);
      console.log(`MONGODB_URI=${server.uri}`);
      return 0;
    }
    case 'stop':
      console.log((await stopFerretDb()) ? 'FerretDB stopped' : 'FerretDB was not running');
      return 0;
    case 'status': {
      const running = ferretDbStatus();
      console.log(running ? `MONGODB_URI=${running.uri} (pid ${running.pid})` : 'not running');
      return running ? 0 : 1;
    }
    default:
      console.error('usage: node tools/services/ferretdb.mjs install|start|stop|status');
      return 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
