import { setTimeout as delay } from 'node:timers/promises';
import { Topics } from '@apo/messages';
import {
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_RETRY_BACKOFF_MS,
  retryDelay,
  type Bus,
  type BusRecord,
  type OutgoingRecord,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';
import { DeadLetterError } from './dead-letter-error.ts';
import { deadLetterFor } from './dead-letter.ts';
import { BusClosedError } from './bus-closed-error.ts';

export interface InMemoryBusOptions {
  /** Partitions of a topic created on first use (default 3), so per-key order is really tested. */
  defaultPartitions?: number;
  /** Called when a handler fails, for logs; the bus retries or dead-letters on its own. */
  onHandlerError?: (error: unknown, record: BusRecord, groupId: string) => void;
}

interface TopicLog {
  partitions: BusRecord[][];
  roundRobin: number;
}

interface Member {
  id: number;
  options: Required<Omit<SubscribeOptions, 'fromBeginning'>>;
  closed: boolean;
  inFlight: Set<Promise<unknown>>;
}

interface Group {
  id: string;
  members: Member[];
  /** Next offset to deliver, by "topic/partition". */
  next: Map<string, number>;
  running: Set<string>;
}

// FNV-1a: a stable key → partition mapping; the in-memory bus need not match Kafka's murmur2.
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The embedded message bus: topics with partitions, consumer groups, per-key order, one delivery
 * per group, redelivery after a handler throws, and a dead-letter path, all in this process.
 */
export class InMemoryBus implements Bus {
  private readonly topics = new Map<string, TopicLog>();
  private readonly groups = new Map<string, Group>();
  private readonly defaultPartitions: number;
  private readonly onHandlerError: InMemoryBusOptions['onHandlerError'];
  private readonly abort = new AbortController();
  private nextMemberId = 1;
  private closed = false;

  constructor(options: InMemoryBusOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 3;
    this.onHandlerError = options.onHandlerError;
  }

  async ensureTopics(topics: string[], options: { partitions?: number } = {}): Promise<void> {
    this.assertOpen();
    for (const name of topics) this.topic(name, options.partitions);
  }

  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.assertOpen();
    const log = this.topic(topic);
    for (const record of records) {
      const partition =
        record.key === null
          ? log.roundRobin++ % log.partitions.length
          : hashKey(record.key) % log.partitions.length;
      const entries = log.partitions[partition]!;
      entries.push({
        topic,
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
        partition,
        offset: String(entries.length),
      });
    }
    for (const group of this.groups.values()) this.pumpTopic(group, topic);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    let group = this.groups.get(options.groupId);
    const isNewGroup = group === undefined;
    if (!group) {
      group = { id: options.groupId, members: [], next: new Map(), running: new Set() };
      this.groups.set(options.groupId, group);
    }
    for (const topic of options.topics) {
      const log = this.topic(topic);
      log.partitions.forEach((entries, p) => {
        const tp = `${topic}/${p}`;
        if (!group.next.has(tp)) {
          group.next.set(tp, isNewGroup && options.fromBeginning === false ? entries.length : 0);
        }
      });
    }
    const member: Member = {
      id: this.nextMemberId++,
      options: {
        groupId: options.groupId,
        topics: [...options.topics],
        handler: options.handler,
        maxDeliveries: options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES,
        retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS,
        deadLetterTopic: options.deadLetterTopic ?? Topics.deadLetter,
      },
      closed: false,
      inFlight: new Set(),
    };
    group.members.push(member);
    for (const topic of options.topics) this.pumpTopic(group, topic);
    return {
      close: async () => {
        if (member.closed) return;
        member.closed = true;
        group.members = group.members.filter((m) => m !== member);
        await Promise.allSettled([...member.inFlight]);
        // Partitions this member held move to the members that remain.
        for (const topic of member.options.topics) this.pumpTopic(group, topic);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    const inFlight = [...this.groups.values()].flatMap((g) => g.members.flatMap((m) => [...m.inFlight]));
    for (const group of this.groups.values()) {
      for (const member of group.members) member.closed = true;
      group.members = [];
    }
    await Promise.allSettled(inFlight);
  }

  /**
   * Resolves once every group has handled every record of the topics it subscribes to (or
   * `timeoutMs` passes, then rejects). For tests and the one-process run.
   */
  async whenIdle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isIdle()) {
      if (Date.now() > deadline) throw new Error(`in-memory bus still busy after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private isIdle(): boolean {
    for (const group of this.groups.values()) {
      if (group.running.size > 0) return false;
      if (group.members.length === 0) continue;
      for (const [tp, next] of group.next) {
        const [topic, p] = splitTp(tp);
        const subscribed = group.members.some((m) => m.options.topics.includes(topic));
        if (subscribed && next < (this.topics.get(topic)?.partitions[p]?.length ?? 0)) return false;
      }
    }
    return true;
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private topic(name: string, partitions?: number): TopicLog {
    let log = this.topics.get(name);
    if (!log) {
      const count = Math.max(1, partitions ?? this.defaultPartitions);
      log = { partitions: Array.from({ length: count }, () => []), roundRobin: 0 };
      this.topics.set(name, log);
      for (const group of this.groups.values()) {
        for (let p = 0; p < count; p += 1) group.next.set(`${name}/${p}`, 0);
      }
    }
    return log;
  }

  private ownerOf(group: Group, topic: string, partition: number): Member | undefined {
    const eligible = group.members.filter((m) => !m.closed && m.options.topics.includes(topic));
    return eligible[partition % Math.max(1, eligible.length)];
  }

  private pumpTopic(group: Group, topic: string): void {
    const log = this.topics.get(topic);
    if (!log) return;
    for (let p = 0; p < log.partitions.length; p += 1) void this.pump(group, topic, p);
  }

  /** Delivers one partition's records to its owner, one at a time, in order. */
  private async pump(group: Group, topic: string, partition: number): Promise<void> {
    const tp = `${topic}/${partition}`;
    if (group.running.has(tp) || this.closed) return;
    group.running.add(tp);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      let deliveries = 0;
      for (;;) {
        const entries = this.topics.get(topic)?.partitions[partition] ?? [];
        const next = group.next.get(tp) ?? 0;
        const owner = this.ownerOf(group, topic, partition);
        if (this.closed || !owner || next >= entries.length) return;
        const record = entries[next]!;
        deliveries += 1;
        const outcome = await this.deliver(owner, record);
        if (outcome === 'done') {
          group.next.set(tp, next + 1);
          deliveries = 0;
          continue;
        }
        const error = outcome.error;
        this.onHandlerError?.(error, record, group.id);
        if (error instanceof DeadLetterError || deliveries >= owner.options.maxDeliveries) {
          const reason =
            error instanceof DeadLetterError
              ? error.message
              : `handler failed ${deliveries} times: ${error instanceof Error ? error.message : String(error)}`;
          await this.publish(owner.options.deadLetterTopic, [deadLetterFor(record, group.id, reason)]);
          group.next.set(tp, next + 1);
          deliveries = 0;
          continue;
        }
        await this.sleep(retryDelay(deliveries, owner.options.retryBackoffMs));
      }
    } finally {
      group.running.delete(tp);
    }
  }

  private async deliver(member: Member, record: BusRecord): Promise<'done' | { error: unknown }> {
    const copy: BusRecord = { ...record, headers: { ...record.headers } };
    const work = member.options.handler(copy).then(
      () => 'done' as const,
      (error: unknown) => ({ error }),
    );
    member.inFlight.add(work);
    try {
      return await work;
    } finally {
      member.inFlight.delete(work);
    }
  }

  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }
}

function splitTp(tp: string): [string, number] {
  const at = tp.lastIndexOf('/');
  return [tp.slice(0, at), Number(tp.slice(at + 1))];
}
