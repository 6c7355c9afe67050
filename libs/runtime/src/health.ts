import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A named check: resolves when healthy, throws (or resolves false) when not. */
export type HealthCheck = () => Promise<boolean | void>;

export interface HealthServer {
  /** The port it listens on (useful when 0 was asked for). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /health`: 200 with each check's state when all pass, 503 naming the failing ones.
 * `GET /live` answers 200 while the process runs (a liveness probe that never calls out).
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  checks: Record<string, HealthCheck>;
  timeoutMs?: number;
}): Promise<HealthServer> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/health' && req.url !== '/live')) {
      res.writeHead(404).end();
      return;
    }
    if (req.url === '/live') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    void runChecks(options.checks, timeoutMs).then((checks) => {
      const ok = Object.values(checks).every((c) => c === 'ok');
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unhealthy', checks }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function runChecks(checks: Record<string, HealthCheck>, timeoutMs: number): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        const result = await Promise.race([check(), timeout]);
        return [name, result === false ? 'failing' : 'ok'] as const;
      } catch (err) {
        return [name, `failing: ${(err as Error).message}`] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
