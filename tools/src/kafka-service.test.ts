import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus, type BusRecord, type KafkaBusOptions } from '@apo/bus';
import { waitFor } from '@apo/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleProduce, KAFKA_VERSION, startKafka, type RunningKafka } from '../services/kafka.mjs';

// These tests own their broker (rather than using KAFKA_BROKERS) because one of them restarts it.
const dataDir = mkdtempSync(join(tmpdir(), 'apo-kafka-test-'));
let kafka: RunningKafka;

beforeAll(async () => {
  kafka = await startKafka({ dataDir });
}, 180_000);

afterAll(async () => {
  await kafka?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const unique = (what: string) => `svc-${what}-${randomUUID().slice(0, 8)}`;
const fast: KafkaBusOptions['consumer'] = { sessionTimeout: 6_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 };

describe(`the local Kafka ${KAFKA_VERSION} broker`, () => {
  it('a start message typed into the console producer reaches a bus subscriber, on the partition the bus uses for that key', async () => {
    const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: 'svc-test', consumer: fast });
    try {
      const topic = unique('console');
      await bus.ensureTopics([topic], { partitions: 3 });
      const seen: BusRecord[] = [];
      await bus.subscribe({ groupId: unique('g'), topics: [topic], handler: async (r) => void seen.push(r) });
      const start = '{"type":"ADAPTIVE_PIPELINE_START","kpi":"accuracy>=0.97","dataset":"builtin:iris"}';
      await consoleProduce({ brokers: kafka.brokers, topic, lines: [start], key: 'pipeline-42' });
      await bus.publish(topic, [{ key: 'pipeline-42', value: 'from the bus' }]);
      await waitFor(() => seen.length === 2, 20_000, 'both records');
      const typed = seen.find((r) => r.value === start);
      expect(typed).toMatchObject({ topic, key: 'pipeline-42', headers: {} });
      // Same key, same partition: Kafka's own producer and the bus agree, so per-key order holds.
      expect(seen.find((r) => r.value === 'from the bus')!.partition).toBe(typed!.partition);
    } finally {
      await bus.close();
    }
  }, 60_000);

  it('a subscription keeps receiving after the broker restarts, without redelivering what it had handled', async () => {
    const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: 'svc-test', consumer: fast });
    try {
      const topic = unique('restart');
      await bus.ensureTopics([topic], { partitions: 1 });
      const seen: string[] = [];
      await bus.subscribe({ groupId: unique('g'), topics: [topic], handler: async (r) => void seen.push(r.value) });
      await bus.publish(topic, [{ key: 'k', value: 'before' }]);
      await waitFor(() => seen.length === 1, 20_000, 'the record published before the restart');

      await kafka.stop({ keepData: true });
      kafka = await startKafka({ dataDir });

      await bus.publish(topic, [{ key: 'k', value: 'after' }]);
      await waitFor(() => seen.includes('after'), 90_000, 'the record published after the restart');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen).toEqual(['before', 'after']);
    } finally {
      await bus.close();
    }
  }, 180_000);
});
