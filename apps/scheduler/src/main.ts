// The scheduler service: `node --import tsx apps/scheduler/src/main.ts` (environment in the README).
// Any number of replicas may run: each tick's start is claimed in the store by one of them.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Topics } from '@apo/messages';
import { ServiceEnv, connectPlatform, type Platform } from '@apo/platform';
import { createLogger, installShutdown, parseEnv, startHealthServer } from '@apo/runtime';
import { z } from 'zod';
import { Scheduler } from './scheduler.ts';

const Env = ServiceEnv.extend({
  SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
});

let env: z.output<typeof Env>;
try {
  env = parseEnv(Env, process.env);
} catch (err) {
  process.stderr.write(`scheduler: ${(err as Error).message}\n`);
  process.exit(2);
}

const logger = createLogger({ name: 'scheduler', level: env.LOG_LEVEL });
const shutdown = installShutdown({ logger });
let platform: Platform | undefined;
try {
  platform = await connectPlatform(env, { clientId: 'adaptive-pipeline-scheduler', logger });
  const parts = platform;
  shutdown.register('platform', () => parts.close());
  await parts.bus.ensureTopics([Topics.workflow]);
  const scheduler = new Scheduler({
    store: parts.store,
    bus: parts.bus,
    logger,
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    intervalMs: env.SCHEDULER_INTERVAL_MS,
  });
  scheduler.start();
  shutdown.register('scheduler', () => scheduler.stop());
  const health = await startHealthServer({
    host: env.HEALTH_HOST,
    port: env.HEALTH_PORT,
    checks: { store: async () => void (await parts.store.listSchedules()) },
  });
  shutdown.register('health', () => health.close());
  logger.info({ healthPort: health.port, intervalMs: env.SCHEDULER_INTERVAL_MS }, 'scheduler ready');
} catch (err) {
  // Unreachable Kafka or MongoDB at start: exit non-zero so a supervisor restarts the service.
  logger.fatal({ err }, 'scheduler could not start');
  await Promise.race([platform?.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  process.exit(1);
}
