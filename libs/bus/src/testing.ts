import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Bus, BusRecord, SubscribeOptions } from './bus.ts';
import { DeadLetterError } from './dead-letter-error.ts';

/** What each contract check gets: a way to make a bus, and how long to wait for deliveries. */
export interface BusContractContext {
  makeBus: () => Promise<Bus>;
  /** How long a check waits for expected deliveries (default 15 s; a real broker is slower). */
  timeoutMs: number;
  /** How long a check waits to be sure nothing more arrives (default 300 ms). */
  quietMs: number;
}

/** Waits until `condition()` holds, or fails naming `what`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (what: string) => `contract-${what}-${randomUUID().slice(0, 8)}`;

async function withBus(ctx: BusContractContext, check: (bus: Bus) => Promise<void>): Promise<void> {
  const bus = await ctx.makeBus();
  try {
    await check(bus);
  } finally {
    await bus.close();
  }
}

function collect(into: BusRecord[], extra?: (record: BusRecord) => Promise<void>) {
  return async (record: BusRecord) => {
    if (extra) await extra(record);
    into.push(record);
  };
}

async function subscribe(bus: Bus, options: SubscribeOptions) {
  return bus.subscribe({ retryBackoffMs: 20, ...options });
}

/**
 * The checks every bus adapter must pass, by name. Each makes its own bus and topics, so they
 * run against a shared real broker too. `busContractSuite` registers each as a test.
 */
export const busContractCases: Record<string, (ctx: BusContractContext) => Promise<void>> = {
  'delivers topic, key, value and headers as published': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('basic');
      await bus.ensureTopics([topic], { partitions: 2 });
      const seen: BusRecord[] = [];
      await subscribe(bus, { groupId: unique('g'), topics: [topic], handler: collect(seen) });
      await bus.publish(topic, [{ key: 'p-1', value: '{"hello":"wörld"}', headers: { type: 'X', id: 'm-1' } }]);
      await waitFor(() => seen.length === 1, ctx.timeoutMs, 'one record');
      expect(seen[0]).toMatchObject({
        topic,
        key: 'p-1',
        value: '{"hello":"wörld"}',
        headers: { type: 'X', id: 'm-1' },
      });
      expect(typeof seen[0]!.offset).toBe('string');
      expect(Number.isInteger(seen[0]!.partition)).toBe(true);
    }),

  'keeps the order of records with the same key and loses none': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('order');
      await bus.ensureTopics([topic], { partitions: 3 });
      const seen: BusRecord[] = [];
      await subscribe(bus, { groupId: unique('g'), topics: [topic], handler: collect(seen) });
      const keys = ['a', 'b', 'c', 'd'];
      const records = Array.from({ length: 100 }, (_, i) => ({
        key: keys[i % keys.length]!,
        value: String(Math.floor(i / keys.length)),
      }));
      await bus.publish(topic, records);
      await waitFor(() => seen.length >= 100, ctx.timeoutMs, '100 records');
      await sleep(ctx.quietMs);
      expect(seen).toHaveLength(100);
      for (const key of keys) {
        const values = seen.filter((r) => r.key === key).map((r) => Number(r.value));
        expect(values).toEqual(Array.from({ length: 25 }, (_, i) => i));
      }
    }),

  'delivers each record to one member of each consumer group': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('groups');
      await bus.ensureTopics([topic], { partitions: 3 });
      const groupA = unique('a');
      const a1: BusRecord[] = [];
      const a2: BusRecord[] = [];
      const b: BusRecord[] = [];
      await subscribe(bus, { groupId: groupA, topics: [topic], handler: collect(a1) });
      await subscribe(bus, { groupId: groupA, topics: [topic], handler: collect(a2) });
      await subscribe(bus, { groupId: unique('b'), topics: [topic], handler: collect(b) });
      await bus.publish(
        topic,
        Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: String(i) })),
      );
      await waitFor(() => a1.length + a2.length >= 30 && b.length >= 30, ctx.timeoutMs, '30 records per group');
      await sleep(ctx.quietMs);
      const groupAValues = [...a1, ...a2].map((r) => r.value).sort();
      expect(groupAValues).toEqual(Array.from({ length: 30 }, (_, i) => String(i)).sort());
      expect(b.map((r) => r.value).sort()).toEqual(groupAValues);
    }),

  'redelivers a record whose handler threw, before later records of its key': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('redeliver');
      await bus.ensureTopics([topic], { partitions: 1 });
      const attempts: string[] = [];
      let failedOnce = false;
      await subscribe(bus, {
        groupId: unique('g'),
        topics: [topic],
        handler: async (record) => {
          attempts.push(record.value);
          if (record.value === 'r1' && !failedOnce) {
            failedOnce = true;
            throw new Error('transient failure');
          }
        },
      });
      await bus.publish(topic, ['r0', 'r1', 'r2'].map((value) => ({ key: 'k', value })));
      await waitFor(() => attempts.includes('r2'), ctx.timeoutMs, 'r2');
      await sleep(ctx.quietMs);
      expect(attempts).toEqual(['r0', 'r1', 'r1', 'r2']);
    }),

  'sets aside a record the handler rejects, with the reason, and goes on': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('dlq');
      const deadLetters = unique('dead');
      await bus.ensureTopics([topic, deadLetters], { partitions: 1 });
      const handled: string[] = [];
      const dead: BusRecord[] = [];
      const groupId = unique('g');
      await subscribe(bus, { groupId: unique('ops'), topics: [deadLetters], handler: collect(dead) });
      await subscribe(bus, {
        groupId,
        topics: [topic],
        deadLetterTopic: deadLetters,
        handler: async (record) => {
          if (record.value === 'bad') throw new DeadLetterError('payload.kpi: expected a number');
          handled.push(record.value);
        },
      });
      await bus.publish(topic, ['good1', 'bad', 'good2'].map((value) => ({ key: 'k', value, headers: { type: 'T' } })));
      await waitFor(() => handled.length === 2 && dead.length === 1, ctx.timeoutMs, 'two handled, one dead letter');
      expect(handled).toEqual(['good1', 'good2']);
      const letter = JSON.parse(dead[0]!.value);
      expect(letter).toMatchObject({
        topic,
        key: 'k',
        value: 'bad',
        reason: 'payload.kpi: expected a number',
        consumerGroup: groupId,
        headers: { type: 'T' },
      });
    }),

  'sets aside a record that fails every allowed delivery, then goes on': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('poison');
      const deadLetters = unique('dead');
      await bus.ensureTopics([topic, deadLetters], { partitions: 1 });
      let poisonAttempts = 0;
      const handled: string[] = [];
      const dead: BusRecord[] = [];
      await subscribe(bus, { groupId: unique('ops'), topics: [deadLetters], handler: collect(dead) });
      await subscribe(bus, {
        groupId: unique('g'),
        topics: [topic],
        deadLetterTopic: deadLetters,
        maxDeliveries: 3,
        retryBackoffMs: 10,
        handler: async (record) => {
          if (record.value === 'poison') {
            poisonAttempts += 1;
            throw new Error('always fails');
          }
          handled.push(record.value);
        },
      });
      await bus.publish(topic, ['poison', 'after'].map((value) => ({ key: 'k', value })));
      await waitFor(() => handled.includes('after') && dead.length === 1, ctx.timeoutMs, 'the record after the poison one');
      expect(poisonAttempts).toBe(3);
      expect(JSON.parse(dead[0]!.value).reason).toMatch(/3 times.*always fails/);
    }),

  'stops delivering to a closed member; the rest of its group takes over': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('close');
      await bus.ensureTopics([topic], { partitions: 2 });
      const groupId = unique('g');
      const first: BusRecord[] = [];
      const second: BusRecord[] = [];
      const leaving = await subscribe(bus, { groupId, topics: [topic], handler: collect(first) });
      await subscribe(bus, { groupId, topics: [topic], handler: collect(second) });
      await leaving.close();
      await bus.publish(topic, Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: String(i) })));
      await waitFor(() => second.length >= 20, ctx.timeoutMs, '20 records at the remaining member');
      await sleep(ctx.quietMs);
      expect(first).toHaveLength(0);
      expect(second).toHaveLength(20);
    }),

  'a new group reads earlier records unless told to start at the end': (ctx) =>
    withBus(ctx, async (bus) => {
      const topic = unique('replay');
      await bus.ensureTopics([topic], { partitions: 1 });
      await bus.publish(topic, ['old1', 'old2'].map((value) => ({ key: 'k', value })));
      const fromStart: string[] = [];
      const fromEnd: string[] = [];
      await subscribe(bus, { groupId: unique('start'), topics: [topic], handler: async (r) => void fromStart.push(r.value) });
      await subscribe(bus, {
        groupId: unique('end'),
        topics: [topic],
        fromBeginning: false,
        handler: async (r) => void fromEnd.push(r.value),
      });
      await waitFor(() => fromStart.length === 2, ctx.timeoutMs, 'the earlier records');
      await bus.publish(topic, [{ key: 'k', value: 'new' }]);
      await waitFor(() => fromStart.length === 3 && fromEnd.length === 1, ctx.timeoutMs, 'the new record');
      expect(fromStart).toEqual(['old1', 'old2', 'new']);
      expect(fromEnd).toEqual(['new']);
    }),
};

/** Registers every contract check as a test for one adapter. */
export function busContractSuite(
  name: string,
  makeBus: () => Promise<Bus>,
  options: Partial<Omit<BusContractContext, 'makeBus'>> = {},
): void {
  const ctx: BusContractContext = { makeBus, timeoutMs: options.timeoutMs ?? 15_000, quietMs: options.quietMs ?? 300 };
  describe(`bus contract: ${name}`, () => {
    for (const [title, check] of Object.entries(busContractCases)) {
      it(title, () => check(ctx), ctx.timeoutMs * 3);
    }
  });
}
