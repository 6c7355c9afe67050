import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BusRecord } from './bus.ts';
import { BusClosedError } from './bus-closed-error.ts';
import { KafkaBus, type KafkaBusOptions } from './kafka.ts';
import { MissingTopicsError } from './missing-topics-error.ts';
import { busContractSuite, waitFor } from './testing.ts';

const brokers = inject('KAFKA_BROKERS').split(',');

// Group timings that keep rebalances short on a test broker (the session timeout stays at the
// broker's default minimum, so the tests also run against a broker given in KAFKA_BROKERS).
const fast: KafkaBusOptions['consumer'] = {
  sessionTimeout: 6_000,
  heartbeatInterval: 300,
  rebalanceTimeout: 10_000,
  maxWaitTimeInMs: 100,
};

const makeBus = (options: Partial<KafkaBusOptions> = {}) =>
  new KafkaBus({ brokers, clientId: 'bus-test', consumer: fast, ...options });

busContractSuite('kafka', async () => makeBus(), { timeoutMs: 20_000, quietMs: 500 });

const unique = (what: string) => `kafka-${what}-${randomUUID().slice(0, 8)}`;

const raw = new Kafka({ brokers, clientId: 'bus-test-raw', logLevel: logLevel.NOTHING });
const admin = raw.admin();
beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

type RawRecord = { partition: number; message: KafkaMessage };

/** Reads `topic` with a plain kafkajs consumer, as another client would, until `enough` holds. */
async function readRaw(topic: string, enough: (seen: RawRecord[]) => boolean): Promise<RawRecord[]> {
  const consumer = raw.consumer({ groupId: unique('raw'), maxWaitTimeInMs: 100 });
  const seen: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push({ partition, message }) });
    await waitFor(() => enough(seen), 20_000, `the records expected on ${topic}`);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe('kafka bus', () => {
  it('writes the key and the type and id headers onto the Kafka record', async () => {
    const bus = makeBus();
    try {
      const topic = unique('wire');
      await bus.ensureTopics([topic], { partitions: 3 });
      await bus.publish(topic, [
        { key: 'pipeline-7', value: '{"n":1}', headers: { type: 'GET_CONFIGURATION', id: 'm-1' } },
        { key: null, value: 'no key' },
      ]);
      const seen = await readRaw(topic, (records) => records.length >= 2);
      const keyed = seen.find((r) => r.message.key !== null)!;
      expect(keyed.message.key!.toString()).toBe('pipeline-7');
      expect(keyed.message.value!.toString()).toBe('{"n":1}');
      expect(keyed.message.headers?.type?.toString()).toBe('GET_CONFIGURATION');
      expect(keyed.message.headers?.id?.toString()).toBe('m-1');
      const unkeyed = seen.find((r) => r.message.key === null)!;
      expect(unkeyed.message.value!.toString()).toBe('no key');
      expect(unkeyed.message.headers).toEqual({});
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]!.partitions).toHaveLength(3);
    } finally {
      await bus.close();
    }
  });

  it('a group that closes mid-way and subscribes again resumes after its last committed record', async () => {
    const topic = unique('resume');
    const groupId = unique('g');
    const values = Array.from({ length: 12 }, (_, i) => String(i));
    const first = makeBus();
    const firstSeen: string[] = [];
    try {
      await first.ensureTopics([topic], { partitions: 1 });
      await first.publish(topic, values.map((value) => ({ key: 'k', value })));
      const subscription = await first.subscribe({
        groupId,
        topics: [topic],
        handler: async (record) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          firstSeen.push(record.value);
        },
      });
      await waitFor(() => firstSeen.length >= 4, 20_000, 'four records');
      await subscription.close();
    } finally {
      await first.close();
    }
    expect(firstSeen.length).toBeGreaterThanOrEqual(4);
    expect(firstSeen.length).toBeLessThan(values.length);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed!.partitions[0]!.offset).toBe(String(firstSeen.length));

    const second = makeBus();
    const secondSeen: string[] = [];
    try {
      await second.subscribe({ groupId, topics: [topic], handler: async (r) => void secondSeen.push(r.value) });
      await waitFor(() => firstSeen.length + secondSeen.length >= values.length, 20_000, 'the rest of the records');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect([...firstSeen, ...secondSeen]).toEqual(values);
    } finally {
      await second.close();
    }
  });

  it('with createTopics: false, a missing topic is named in the error and nothing is created', async () => {
    const bus = makeBus({ createTopics: false });
    const existing = unique('present');
    const missing = unique('absent');
    const creating = makeBus();
    try {
      await creating.ensureTopics([existing]);
      await expect(bus.ensureTopics([existing])).resolves.toBeUndefined();
      const refused = await bus.ensureTopics([existing, missing]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MissingTopicsError);
      expect((refused as MissingTopicsError).topics).toEqual([missing]);
      expect((refused as Error).message).toContain(missing);
      await expect(bus.publish(missing, [{ key: null, value: 'x' }])).rejects.toThrow(missing);
      await expect(
        bus.subscribe({ groupId: unique('g'), topics: [missing], handler: async () => undefined }),
      ).rejects.toBeInstanceOf(MissingTopicsError);
      expect(await admin.listTopics()).not.toContain(missing);
    } finally {
      await Promise.all([bus.close(), creating.close()]);
    }
  });

  it('sets a handler that keeps failing aside on the default dead-letter topic after five deliveries', async () => {
    const bus = makeBus();
    const topic = unique('default-dlq');
    const attempts: BusRecord[] = [];
    try {
      await bus.ensureTopics([topic], { partitions: 1 });
      await bus.subscribe({
        groupId: unique('g'),
        topics: [topic],
        retryBackoffMs: 10,
        handler: async (record) => {
          attempts.push(record);
          throw new Error('cannot handle');
        },
      });
      await bus.publish(topic, [{ key: 'p-9', value: 'poison', headers: { type: 'T', id: 'x-1' } }]);
      const letterOf = (records: RawRecord[]) =>
        records
          .map((r) => JSON.parse(r.message.value!.toString()) as { topic: string; reason: string; headers: object })
          .find((letter) => letter.topic === topic);
      const ours = letterOf(await readRaw('adaptive-pipeline-dead-letter', (records) => letterOf(records) !== undefined));
      expect(ours).toMatchObject({ reason: 'handler failed 5 times: cannot handle', headers: { type: 'T', id: 'x-1' } });
      expect(attempts).toHaveLength(5);
    } finally {
      await bus.close();
    }
  });

  it('a handler that runs longer than the session timeout keeps its record: handled once, then committed', async () => {
    const bus = makeBus();
    const topic = unique('long');
    const groupId = unique('g');
    const handled: string[] = [];
    try {
      await bus.ensureTopics([topic], { partitions: 1 });
      await bus.subscribe({
        groupId,
        topics: [topic],
        handler: async (record) => {
          if (record.value === 'slow') await new Promise((resolve) => setTimeout(resolve, fast!.sessionTimeout! + 1_500));
          handled.push(record.value);
        },
      });
      await bus.publish(topic, ['slow', 'next'].map((value) => ({ key: 'k', value })));
      await waitFor(() => handled.includes('next'), 30_000, 'the record after the slow one');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(handled).toEqual(['slow', 'next']);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(committed!.partitions[0]!.offset).toBe('2');
    } finally {
      await bus.close();
    }
  }, 60_000);

  it('close is idempotent and refuses work afterwards', async () => {
    const bus = makeBus();
    const topic = unique('closed');
    await bus.ensureTopics([topic]);
    await bus.subscribe({ groupId: unique('g'), topics: [topic], handler: async () => undefined });
    await Promise.all([bus.close(), bus.close()]);
    await bus.close();
    await expect(bus.publish(topic, [{ key: null, value: 'late' }])).rejects.toBeInstanceOf(BusClosedError);
    await expect(
      bus.subscribe({ groupId: unique('g'), topics: [topic], handler: async () => undefined }),
    ).rejects.toBeInstanceOf(BusClosedError);
  });
});
