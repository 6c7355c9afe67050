import { ALL_TOPICS, type MessageType, type StageName } from '@apo/messages';
import {
  createLogger,
  installShutdown,
  parseEnv,
  runPeriodic,
  runStage,
  startHealthServer,
  type Logger,
  type PeriodicOptions,
  type StageHandlers,
} from '@apo/runtime';
import type { z } from 'zod';
import { connectPlatform, type Platform } from './connect.ts';
import { ServiceEnv } from './env.ts';

/** What a stage's main.ts gives: its name, its own variables, and its handlers over the platform. */
export interface ServeStageOptions<E extends z.ZodRawShape> {
  stage: StageName;
  /** Variables of this stage only, merged with `ServiceEnv`. */
  env?: E;
  handlers: (parts: Platform & { env: ServiceEnv & z.output<z.ZodObject<E>>; logger: Logger }) => StageHandlers | Promise<StageHandlers>;
  /** The process environment (main.ts passes `process.env`). */
  processEnv: Record<string, string | undefined>;
  /** Types the handlers are idempotent for on their own (see `StageOptions.idempotent`). */
  idempotent?: readonly MessageType[];
  /**
   * A task the service runs at start-up, before it reports ready, and then every `everyMs`; what
   * it returns is published (the orchestrator's sweep for overdue steps).
   */
  periodic?: (
    parts: Platform & { env: ServiceEnv & z.output<z.ZodObject<E>>; logger: Logger },
  ) => Pick<PeriodicOptions, 'task' | 'everyMs'>;
}

/**
 * Runs one stage as its own service: parses the environment once (a bad variable ends the
 * process with a message naming it), connects Kafka, MongoDB and the artifact store, makes sure
 * the topics exist, consumes in the group `adaptive-pipeline-<stage>`, serves `/health` and
 * `/live`, and on SIGTERM stops consuming (committing what was handled) before closing the rest.
 */
export async function serveStage<E extends z.ZodRawShape = Record<never, never>>(options: ServeStageOptions<E>): Promise<void> {
  // One schema for both, so a bad start names every bad variable at once.
  const schema = ServiceEnv.extend(options.env ?? {});
  let env: ServiceEnv & z.output<z.ZodObject<E>>;
  try {
    env = parseEnv(schema, options.processEnv) as ServiceEnv & z.output<z.ZodObject<E>>;
  } catch (err) {
    process.stderr.write(`${options.stage}: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({ name: options.stage, level: env.LOG_LEVEL });
  const shutdown = installShutdown({ logger });
  let platform: Platform | undefined;
  try {
    platform = await connectPlatform(env, { clientId: `adaptive-pipeline-${options.stage}`, logger });
    const parts = platform;
    shutdown.register('platform', () => parts.close());
    await platform.bus.ensureTopics([...ALL_TOPICS]);
    const handlers = await options.handlers({ ...parts, env, logger });
    const subscription = await runStage({
      stage: options.stage,
      bus: parts.bus,
      processed: parts.store,
      handlers,
      logger,
      ...(options.idempotent ? { idempotent: options.idempotent } : {}),
    });
    shutdown.register('consumer', () => subscription.close());
    if (options.periodic) {
      const periodic = runPeriodic({ ...options.periodic({ ...parts, env, logger }), bus: parts.bus, logger });
      shutdown.register('periodic', () => periodic.close());
      await periodic.started;
    }
    const health = await startHealthServer({
      host: env.HEALTH_HOST,
      port: env.HEALTH_PORT,
      checks: { store: async () => void (await parts.store.getPipeline('health-check')) },
    });
    shutdown.register('health', () => health.close());
    logger.info({ healthPort: health.port, brokers: env.KAFKA_BROKERS, artifacts: env.ARTIFACTS_URI }, `${options.stage} ready`);
  } catch (err) {
    // Unreachable Kafka or MongoDB at start: exit non-zero so a supervisor restarts the service.
    logger.fatal({ err }, `${options.stage} could not start`);
    await Promise.race([platform?.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    process.exit(1);
  }
}
