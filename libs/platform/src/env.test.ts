import { ConfigurationError, parseEnv } from '@apo/runtime';
import { describe, expect, it } from 'vitest';
import { ServiceEnv } from './env.ts';

describe('the environment of a stage service', () => {
  it('runs against a local broker and MongoDB when nothing is set', () => {
    expect(parseEnv(ServiceEnv, {})).toMatchObject({
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      KAFKA_SSL: false,
      KAFKA_CREATE_TOPICS: true,
      KAFKA_TOPIC_PARTITIONS: 3,
      MONGODB_URI: 'mongodb://127.0.0.1:27017/adaptive_pipeline',
      ARTIFACTS_URI: 'gridfs://artifacts',
      HEALTH_PORT: 8080,
      KAFKA_SESSION_TIMEOUT_MS: 30_000,
    });
  });

  it('refuses a session timeout the broker would refuse', () => {
    expect(parseEnv(ServiceEnv, { KAFKA_SESSION_TIMEOUT_MS: '10000' }).KAFKA_SESSION_TIMEOUT_MS).toBe(10_000);
    expect(() => parseEnv(ServiceEnv, { KAFKA_SESSION_TIMEOUT_MS: '3000' })).toThrow(/KAFKA_SESSION_TIMEOUT_MS/);
  });

  it('reads brokers as a list and flags as booleans', () => {
    const env = parseEnv(ServiceEnv, { KAFKA_BROKERS: 'k1:9092, k2:9093', KAFKA_SSL: 'true', KAFKA_CREATE_TOPICS: '0', ARTIFACTS_URI: 'file:///var/lib/apo' });
    expect(env).toMatchObject({ KAFKA_BROKERS: ['k1:9092', 'k2:9093'], KAFKA_SSL: true, KAFKA_CREATE_TOPICS: false, ARTIFACTS_URI: 'file:///var/lib/apo' });
  });

  it('names each bad variable and what it must be', () => {
    const bad = () =>
      parseEnv(ServiceEnv, { KAFKA_BROKERS: 'localhost', ARTIFACTS_URI: 's3://bucket', HEALTH_PORT: 'eighty', KAFKA_SASL_MECHANISM: 'md5' });
    expect(bad).toThrow(ConfigurationError);
    const message = (() => {
      try {
        bad();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/KAFKA_BROKERS.*host:port/);
    expect(message).toMatch(/ARTIFACTS_URI.*gridfs:\/\/<bucket> or file:\/\/\/<directory>/);
    expect(message).toMatch(/HEALTH_PORT/);
    expect(message).toMatch(/KAFKA_SASL_MECHANISM/);
  });
});
