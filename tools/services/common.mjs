// Shared pieces of the scripts that install and start local services (Kafka, FerretDB) for
// tests and for trying the distributed form without Docker. Plain ESM so `node` runs them as is.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where installs are cached across runs (survives on the same machine, like ~/.m2). */
export function cacheDir(...parts) {
  const dir = join(process.env.APO_SERVICES_CACHE ?? join(homedir(), '.cache', 'adaptive-pipeline'), ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A TCP port free on loopback right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `host:port` accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(host, port, timeoutMs, what = `${host}:${port}`) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Retries `check` (an async predicate that may throw) until it holds or `timeoutMs` passes. */
export async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Runs a command to completion, throwing with its output when it fails. */
export function runOrThrow(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
  return result.stdout;
}

/** Whether a process with this pid is alive. */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A small JSON state file per service, so `start` in one process and `stop` in another agree. */
export function stateFile(name) {
  const file = join(cacheDir('run'), `${name}.json`);
  return {
    file,
    read: () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null),
    write: (state) => writeFileSync(file, JSON.stringify(state, null, 2)),
    remove: () => rmSync(file, { force: true }),
  };
}
