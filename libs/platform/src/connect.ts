import { fileURLToPath } from 'node:url';
import { GridFsArtifactStore, LocalDirArtifactStore, type ArtifactStore } from '@apo/artifacts';
import { KafkaBus, type Bus } from '@apo/bus';
import { ConfigurationError, type Logger } from '@apo/runtime';
import { MongoStore, type Store } from '@apo/store';
import { MongoClient } from 'mongodb';
import type { ServiceEnv } from './env.ts';

/** The distributed parts a stage service runs on. */
export interface Platform {
  bus: Bus;
  store: Store;
  artifacts: ArtifactStore;
  /** Closes the bus, the store and the artifact store, then the shared MongoDB client. */
  close(): Promise<void>;
}

/** Kafka, MongoDB and the artifact store named by the environment; one MongoDB client for both. */
export async function connectPlatform(env: ServiceEnv, options: { clientId: string; logger: Logger }): Promise<Platform> {
  if (env.KAFKA_SASL_MECHANISM && (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD)) {
    throw new ConfigurationError(`invalid environment: KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
  }
  const client = new MongoClient(env.MONGODB_URI, { ignoreUndefined: true });
  await client.connect();
  // A shared client does not tell the adapters the URI's database, so it is named here for both.
  const dbName = env.MONGODB_DB ?? /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(env.MONGODB_URI)?.[1] ?? 'adaptive_pipeline';
  const store = await MongoStore.connect({ client, dbName });
  const artifacts: ArtifactStore = env.ARTIFACTS_URI.startsWith('file:')
    ? new LocalDirArtifactStore({ dir: fileURLToPath(env.ARTIFACTS_URI) })
    : new GridFsArtifactStore({
        client,
        bucketName: env.ARTIFACTS_URI.slice('gridfs://'.length).replace(/\/$/, ''),
        dbName,
      });
  const bus = new KafkaBus({
    brokers: env.KAFKA_BROKERS,
    clientId: env.KAFKA_CLIENT_ID ?? options.clientId,
    ssl: env.KAFKA_SSL,
    ...(env.KAFKA_SASL_MECHANISM
      ? { sasl: { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! } }
      : {}),
    partitions: env.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    createTopics: env.KAFKA_CREATE_TOPICS,
    // Heartbeats at a tenth of the session, as kafkajs's defaults are (30 s / 3 s).
    consumer: { sessionTimeout: env.KAFKA_SESSION_TIMEOUT_MS, heartbeatInterval: Math.round(env.KAFKA_SESSION_TIMEOUT_MS / 10) },
    logger: options.logger.child({ component: 'kafka' }),
  });
  return {
    bus,
    store,
    artifacts,
    async close() {
      await bus.close();
      await artifacts.close();
      await store.close();
      await client.close();
    },
  };
}
