import { z } from 'zod';

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const list = z
  .string()
  .min(1)
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1));

/**
 * The environment every stage service reads (defaults in parentheses), documented in the README:
 * KAFKA_BROKERS (127.0.0.1:9092, comma-separated), KAFKA_CLIENT_ID (adaptive-pipeline-<stage>),
 * KAFKA_SSL (false), KAFKA_SASL_MECHANISM / _USERNAME / _PASSWORD, KAFKA_TOPIC_PARTITIONS (3),
 * KAFKA_REPLICATION_FACTOR (1), KAFKA_CREATE_TOPICS (true), KAFKA_SESSION_TIMEOUT_MS (30000: how
 * long the partitions of a consumer that died without leaving wait for another), MONGODB_URI
 * (mongodb://127.0.0.1:27017/adaptive_pipeline), MONGODB_DB (the URI's database), ARTIFACTS_URI
 * (gridfs://artifacts: GridFS in that database, shared by every host; or file:///a/directory),
 * LOG_LEVEL (info), HEALTH_HOST (0.0.0.0), HEALTH_PORT (8080; 0 picks a free one).
 */
export const ServiceEnv = z.object({
  KAFKA_BROKERS: list.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_SSL: flag(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(10).default(1),
  KAFKA_CREATE_TOPICS: flag(true),
  // The broker's default group.min.session.timeout.ms is 6 s; below that it refuses to join.
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .default('mongodb://127.0.0.1:27017/adaptive_pipeline'),
  MONGODB_DB: z.string().min(1).optional(),
  ARTIFACTS_URI: z
    .string()
    .regex(/^(gridfs:\/\/[A-Za-z0-9_-]{1,64}\/?|file:\/\/\/.+)$/, 'must be gridfs://<bucket> or file:///<directory>')
    .default('gridfs://artifacts'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
});
export type ServiceEnv = z.infer<typeof ServiceEnv>;
