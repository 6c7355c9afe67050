import { describe, expect, it } from 'vitest';
import type { Bus, OutgoingRecord, SubscribeOptions, Subscription } from './bus.ts';
import { InMemoryBus } from './in-memory.ts';
import { busContractCases, type BusContractContext } from './testing.ts';

/** A correct bus with one rule broken, to prove the contract checks catch it. */
class BrokenBus implements Bus {
  private readonly inner = new InMemoryBus();
  private published = 0;
  private members = 0;

  constructor(private readonly flaw: 'drops' | 'reorders' | 'ignores-groups' | 'no-redelivery') {}

  ensureTopics(topics: string[], options?: { partitions?: number }): Promise<void> {
    return this.inner.ensureTopics(topics, options);
  }

  publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.flaw === 'drops') {
      records = records.filter(() => (this.published += 1) % 10 !== 0);
    }
    if (this.flaw === 'reorders') records = [...records].reverse();
    return this.inner.publish(topic, records);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.flaw === 'ignores-groups') {
      return this.inner.subscribe({ ...options, groupId: `${options.groupId}-${(this.members += 1)}` });
    }
    if (this.flaw === 'no-redelivery') {
      const handler = options.handler;
      return this.inner.subscribe({ ...options, handler: (r) => handler(r).catch(() => undefined) });
    }
    return this.inner.subscribe(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const context = (flaw: ConstructorParameters<typeof BrokenBus>[0]): BusContractContext => ({
  makeBus: async () => new BrokenBus(flaw),
  timeoutMs: 1_000,
  quietMs: 100,
});

describe('the bus contract rejects broken adapters', () => {
  it('one that drops records', async () => {
    await expect(
      busContractCases['keeps the order of records with the same key and loses none']!(context('drops')),
    ).rejects.toThrow();
  });

  it('one that reorders records', async () => {
    await expect(
      busContractCases['keeps the order of records with the same key and loses none']!(context('reorders')),
    ).rejects.toThrow();
  });

  it('one that delivers a record to every member of a group', async () => {
    await expect(
      busContractCases['delivers each record to one member of each consumer group']!(context('ignores-groups')),
    ).rejects.toThrow();
  });

  it('one that does not redeliver after a handler threw', async () => {
    await expect(
      busContractCases['redelivers a record whose handler threw, before later records of its key']!(
        context('no-redelivery'),
      ),
    ).rejects.toThrow();
  });
});
