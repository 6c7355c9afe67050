import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError, parseEnv } from './env.ts';
import { startHealthServer } from './health.ts';
import { createLogger, redactUrl } from './logger.ts';
import { installShutdown } from './shutdown.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'svc', destination }) };
}

describe('logger', () => {
  it('writes JSON lines and never the secrets', () => {
    const { lines, logger } = capture();
    logger.info({ apiKey: 'sk-ant-123', llm: { apiKey: 'sk-ant-456', model: 'm' }, headers: { authorization: 'Bearer x' } }, 'called');
    const text = JSON.stringify(lines);
    expect(lines[0]).toMatchObject({ name: 'svc', msg: 'called', llm: { model: 'm' } });
    expect(text).not.toContain('sk-ant');
    expect(text).not.toContain('Bearer x');
  });

  it('hides the password of a connection string', () => {
    expect(redactUrl('mongodb://apo:s3cret@db:27017/apo')).toBe('mongodb://apo:***@db:27017/apo');
    expect(redactUrl('mongodb://db:27017/apo')).toBe('mongodb://db:27017/apo');
  });
});

describe('parseEnv', () => {
  const schema = z.object({
    KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
    HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    ANTHROPIC_API_KEY: z.string().startsWith('sk-').optional(),
  });

  it('applies defaults and coerces', () => {
    expect(parseEnv(schema, { HEALTH_PORT: '9000' })).toEqual({ KAFKA_BROKERS: '127.0.0.1:9092', HEALTH_PORT: 9000 });
  });

  it('names each bad variable and its value, but not the value of a secret', () => {
    let error: unknown;
    try {
      parseEnv(schema, { HEALTH_PORT: 'eighty', ANTHROPIC_API_KEY: 'oops-secret' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as Error).message;
    expect(message).toMatch(/HEALTH_PORT: .*\(got "eighty"\)/);
    expect(message).toMatch(/ANTHROPIC_API_KEY/);
    expect(message).not.toContain('oops-secret');
  });
});

describe('health endpoint', () => {
  it('answers 200 when every check passes and 503 naming the failing one', async () => {
    let storeUp = true;
    const server = await startHealthServer({
      port: 0,
      checks: {
        bus: async () => true,
        store: async () => {
          if (!storeUp) throw new Error('connection refused');
        },
      },
    });
    const url = `http://127.0.0.1:${server.port}`;
    const ok = await fetch(`${url}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok', checks: { bus: 'ok', store: 'ok' } });
    storeUp = false;
    const bad = await fetch(`${url}/health`);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ status: 'unhealthy', checks: { bus: 'ok', store: 'failing: connection refused' } });
    expect((await fetch(`${url}/live`)).status).toBe(200);
    expect((await fetch(`${url}/other`)).status).toBe(404);
    await server.close();
  });
});

describe('graceful shutdown', () => {
  function fakeProcess() {
    const emitter = new EventEmitter();
    const exits: number[] = [];
    return { emitter, exits, proc: { once: (s: string, l: () => void) => emitter.once(s, l), exit: (c: number) => void exits.push(c) } };
  }

  it('on SIGTERM runs the steps newest first, once, then exits 0', async () => {
    const { emitter, exits, proc } = fakeProcess();
    const { logger } = capture();
    const order: string[] = [];
    const shutdown = installShutdown({ logger, process: proc });
    shutdown.register('store', async () => void order.push('store'));
    shutdown.register('consumer', async () => void order.push('consumer'));
    emitter.emit('SIGTERM');
    await shutdown.shutdown('again');
    expect(order).toEqual(['consumer', 'store']);
    expect(exits).toEqual([0]);
  });

  it('exits 1 when a step fails or hangs past the timeout, still running the others', async () => {
    const { exits, proc } = fakeProcess();
    const { logger } = capture();
    const order: string[] = [];
    const shutdown = installShutdown({ logger, process: proc, timeoutMs: 50 });
    shutdown.register('hangs', () => new Promise(() => undefined));
    shutdown.register('fails', async () => {
      order.push('fails');
      throw new Error('boom');
    });
    expect(await shutdown.shutdown('test')).toBe(1);
    expect(order).toEqual(['fails']);
    expect(exits).toEqual([1]);
  });
});
