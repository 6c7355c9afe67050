import type { ConnectionOptions } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachMessagePayload,
  type IHeaders,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
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
import { BusClosedError } from './bus-closed-error.ts';
import { DeadLetterError } from './dead-letter-error.ts';
import { deadLetterFor } from './dead-letter.ts';
import { MissingTopicsError } from './missing-topics-error.ts';
import { TopicsNotReadyError } from './topics-not-ready-error.ts';

/** The part of a pino logger the bus writes to (pino's `(fields, message)` call shape). */
export interface KafkaBusLogger {
  error(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
  /** pino's level name; kafkajs skips building entries below it. */
  level?: string;
}

/** SASL authentication with a user name and password. */
export interface KafkaSaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** Consumer group timings; the defaults suit stages whose handlers run for minutes. */
export interface KafkaConsumerTuning {
  /**
   * How long the group waits for a silent member before giving its partitions away, in ms
   * (default 30 000; brokers refuse less than their `group.min.session.timeout.ms`, 6 000 by
   * default). The bus heartbeats while a handler runs, so a long handler is not silent.
   */
  sessionTimeout?: number;
  /** Heartbeat period in ms (default 3 000); a rebalance is noticed within about this long. */
  heartbeatInterval?: number;
  /** How long a rebalance waits for members to rejoin, in ms (default 60 000). */
  rebalanceTimeout?: number;
  /** Longest a fetch waits for new records, in ms (default 1 000); also bounds `close()`. */
  maxWaitTimeInMs?: number;
  /** Partitions one subscription handles at once, each still in order (default 1). */
  partitionsConsumedConcurrently?: number;
}

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** TLS: `true` for the platform's trust store, or Node TLS options (CA, client certificate). */
  ssl?: boolean | ConnectionOptions;
  sasl?: KafkaSaslOptions;
  /** Partitions of a topic the bus creates when `ensureTopics` names none (default 3). */
  partitions?: number;
  /** Replication factor of the topics the bus creates (default 1). */
  replicationFactor?: number;
  /**
   * Whether missing topics are created (default true). When false, `ensureTopics`, `publish`
   * and `subscribe` only check that the topics exist and throw `MissingTopicsError` otherwise.
   */
  createTopics?: boolean;
  /** How long connecting to a broker may take, in ms (default 5 000). */
  connectionTimeout?: number;
  /** kafkajs's and the bus's own log entries go here, at their level; nothing is printed without it. */
  logger?: KafkaBusLogger;
  consumer?: KafkaConsumerTuning;
}

type ResolvedSubscribeOptions = Required<Omit<SubscribeOptions, 'fromBeginning'>> & { fromBeginning: boolean };

/** One `subscribe` call: a kafkajs consumer (replaced when it crashes) and its records in hand. */
interface Member {
  options: ResolvedSubscribeOptions;
  consumer: Consumer | undefined;
  /** Set once the first consumer joined; later crashes restart rather than fail `subscribe`. */
  started: boolean;
  closing: boolean;
  closed: Promise<void> | undefined;
  /** Ends retry backoffs when the subscription closes. */
  abort: AbortController;
  inFlight: Set<Promise<void>>;
  restarts: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** Where a new group starts reading with `fromBeginning: false`, by "topic:partition". */
  startAt: Map<string, string> | undefined;
}

const TOPIC_READY_TIMEOUT_MS = 30_000;
const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/**
 * The message bus on Apache Kafka (kafkajs). Keys, values and headers go on the wire as given
 * (UTF-8), so records keyed by pipeline id keep their order. Each `subscribe` is one consumer of
 * its group; a record's offset is committed only after its handler finished, or after it went to
 * the dead-letter topic, so delivery is at least once and nothing is skipped.
 */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private readonly options: KafkaBusOptions;
  private readonly tuning: Required<KafkaConsumerTuning>;
  private readonly members = new Set<Member>();
  /** Topics known to exist, so publishing checks a topic once per bus. */
  private readonly knownTopics = new Set<string>();
  private producer: Producer | undefined;
  private producerReady: Promise<void> | undefined;
  private admin: Admin | undefined;
  private adminReady: Promise<void> | undefined;
  private closed: Promise<void> | undefined;

  constructor(options: KafkaBusOptions) {
    this.options = options;
    this.tuning = {
      sessionTimeout: options.consumer?.sessionTimeout ?? 30_000,
      heartbeatInterval: options.consumer?.heartbeatInterval ?? 3_000,
      rebalanceTimeout: options.consumer?.rebalanceTimeout ?? 60_000,
      maxWaitTimeInMs: options.consumer?.maxWaitTimeInMs ?? 1_000,
      partitionsConsumedConcurrently: options.consumer?.partitionsConsumedConcurrently ?? 1,
    };
    this.kafka = new Kafka({
      brokers: options.brokers,
      clientId: options.clientId,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: saslOptions(options.sasl) }),
      connectionTimeout: options.connectionTimeout ?? 5_000,
      // Generous, so a broker restart or a leader move is ridden out rather than reported.
      retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 10 },
      logLevel: kafkajsLevel(options.logger),
      logCreator: () => (entry) => forwardLog(options.logger, entry),
    });
  }

  async ensureTopics(topics: string[], options: { partitions?: number } = {}): Promise<void> {
    this.assertOpen();
    await this.ensureKnown(topics, options.partitions);
  }

  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.assertOpen();
    await this.ensureKnown([topic]);
    await this.send(topic, records);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const resolved: ResolvedSubscribeOptions = {
      groupId: options.groupId,
      topics: [...options.topics],
      handler: options.handler,
      fromBeginning: options.fromBeginning ?? true,
      maxDeliveries: options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS,
      deadLetterTopic: options.deadLetterTopic ?? Topics.deadLetter,
    };
    await this.ensureKnown([...resolved.topics, resolved.deadLetterTopic]);
    const member: Member = {
      options: resolved,
      consumer: undefined,
      started: false,
      closing: false,
      closed: undefined,
      abort: new AbortController(),
      inFlight: new Set(),
      restarts: 0,
      restartTimer: undefined,
      startAt: resolved.fromBeginning ? undefined : await this.newGroupStart(resolved.groupId, resolved.topics),
    };
    this.members.add(member);
    try {
      await this.startConsumer(member);
    } catch (error) {
      await this.closeMember(member);
      throw error;
    }
    member.started = true;
    return { close: () => this.closeMember(member) };
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.allSettled([...this.members].map((m) => this.closeMember(m)));
      await Promise.allSettled([
        this.producerReady?.then(() => this.producer?.disconnect()),
        this.adminReady?.then(() => this.admin?.disconnect()),
      ]);
    })();
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) this.admin = this.kafka.admin();
    const admin = this.admin;
    this.adminReady ??= admin.connect().catch((error: unknown) => {
      this.adminReady = undefined;
      throw error;
    });
    await this.adminReady;
    return admin;
  }

  private async producerClient(): Promise<Producer> {
    if (!this.producer) {
      this.producer = this.kafka.producer({
        // The Java client's murmur2 partitioner, so a key lands where Kafka's own tools put it.
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        // kafkajs resends a whole request when one of its partitions failed (a leader moving,
        // say); idempotence lets the broker drop the copies of the partitions that had succeeded.
        idempotent: true,
        // Bounded (about two minutes), so a publish to a lost cluster fails instead of hanging a
        // handler and the shutdown waiting for it; kafkajs logs a warning about it once.
        retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 10 },
      });
    }
    const producer = this.producer;
    this.producerReady ??= producer.connect().catch((error: unknown) => {
      this.producerReady = undefined;
      throw error;
    });
    await this.producerReady;
    return producer;
  }

  private async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.producerClient();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers } })),
      });
    } catch (error) {
      // kafkajs cannot resynchronise an idempotent producer's sequence numbers after a failed
      // send; the next publish gets a new producer (and producer id) instead.
      if (this.producer === producer) {
        this.producer = undefined;
        this.producerReady = undefined;
        void producer.disconnect().catch(() => undefined);
      }
      throw error;
    }
  }

  /** Creates (or, with `createTopics: false`, checks) the topics not yet known to exist. */
  private async ensureKnown(topics: string[], partitions?: number): Promise<void> {
    const unknown = [...new Set(topics)].filter((t) => !this.knownTopics.has(t));
    if (unknown.length === 0) return;
    const admin = await this.adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = unknown.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      if (this.options.createTopics === false) throw new MissingTopicsError(missing);
      // Resolves false when another client created them first; either way they need leaders.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: Math.max(1, partitions ?? this.options.partitions ?? 3),
          replicationFactor: this.options.replicationFactor ?? 1,
        })),
      });
    }
    await this.waitForLeaders(admin, unknown);
    for (const t of unknown) this.knownTopics.add(t);
  }

  /**
   * Waits until every partition of `topics` has a leader. A broker may answer "unknown topic"
   * for a moment after creating one, which kafkajs's own wait (`waitForLeaders`) gives up on.
   */
  private async waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
    const started = Date.now();
    for (;;) {
      let failure: unknown;
      try {
        const { topics: found } = await admin.fetchTopicMetadata({ topics });
        const ready = (name: string) => {
          const partitions = found.find((t) => t.name === name)?.partitions ?? [];
          return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
        };
        if (topics.every(ready)) return;
      } catch (error) {
        // Only what kafkajs marks non-retriable ends the wait. kafkajs 2.2.4 also fails here with
        // a TypeError ("reading 'topicMetadata'" of null) when no broker answered the metadata
        // request, as while a restarted service connects to a busy broker: that one passes.
        if ((error as { retriable?: boolean }).retriable === false) throw error;
        failure = error;
      }
      const waited = Date.now() - started;
      if (waited > TOPIC_READY_TIMEOUT_MS) throw new TopicsNotReadyError(topics, waited, { cause: failure });
      await delay(100);
    }
  }

  /**
   * For a group that has no members and never committed on a topic, the ends of its partitions
   * now: Kafka's own "latest" is looked up later, at the first fetch, and would skip records
   * published between `subscribe` resolving and that fetch.
   */
  private async newGroupStart(groupId: string, topics: string[]): Promise<Map<string, string> | undefined> {
    const admin = await this.adminClient();
    const { groups } = await admin.describeGroups([groupId]);
    if ((groups[0]?.members.length ?? 0) > 0) return undefined;
    const startAt = new Map<string, string>();
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
      if (partitions.some((p) => p.offset !== '-1')) continue;
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) startAt.set(`${topic}:${partition}`, high);
    }
    return startAt;
  }

  /** Starts a consumer for `member`; resolves once it joined the group. */
  private async startConsumer(member: Member): Promise<void> {
    const { groupId, topics, fromBeginning } = member.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: this.tuning.sessionTimeout,
      heartbeatInterval: this.tuning.heartbeatInterval,
      rebalanceTimeout: this.tuning.rebalanceTimeout,
      maxWaitTimeInMs: this.tuning.maxWaitTimeInMs,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 10, restartOnFailure: async () => true },
    });
    member.consumer = consumer;
    let joined = false;
    const firstJoin = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // Runs inside the join, before the first fetch, so the seek decides where reading starts.
        const startAt = member.startAt;
        member.startAt = undefined;
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions ?? []) {
            const offset = startAt?.get(`${topic}:${partition}`);
            if (offset !== undefined) consumer.seek({ topic, partition, offset });
          }
        }
        joined = true;
        member.restarts = 0;
        resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // kafkajs restarts by itself after retriable errors; after any other, the bus does.
        if (member.closing || payload.restart) return;
        if (!member.started && !joined) reject(payload.error);
        else this.scheduleRestart(member, payload.error);
      });
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: this.tuning.partitionsConsumedConcurrently,
        eachMessage: (payload) => this.handle(member, consumer, payload),
      });
      await firstJoin;
      // The subscription (or the bus) closed while this consumer was joining: it must not stay.
      if (member.closing) throw new BusClosedError();
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private scheduleRestart(member: Member, error: unknown): void {
    if (member.closing || member.restartTimer) return;
    member.restarts += 1;
    const wait = retryDelay(member.restarts, 1_000);
    this.options.logger?.error(
      { groupId: member.options.groupId, topics: member.options.topics, err: error, restartInMs: wait },
      'Kafka consumer stopped; restarting it',
    );
    member.restartTimer = setTimeout(() => {
      member.restartTimer = undefined;
      if (member.closing) return;
      void (async () => {
        await member.consumer?.disconnect().catch(() => undefined);
        if (member.closing) return;
        await this.startConsumer(member).catch((e: unknown) => this.scheduleRestart(member, e));
      })();
    }, wait);
  }

  private closeMember(member: Member): Promise<void> {
    member.closed ??= (async () => {
      member.closing = true;
      member.abort.abort();
      clearTimeout(member.restartTimer);
      // The records in hand finish (and commit) before the consumer leaves its group.
      await Promise.allSettled([...member.inFlight]);
      await member.consumer?.disconnect().catch((error: unknown) => {
        this.options.logger?.warn({ groupId: member.options.groupId, err: error }, 'Kafka consumer did not disconnect cleanly');
      });
      this.members.delete(member);
    })();
    return member.closed;
  }

  private async handle(member: Member, consumer: Consumer, payload: EachMessagePayload): Promise<void> {
    const work = this.process(member, consumer, payload);
    member.inFlight.add(work);
    try {
      await work;
    } finally {
      member.inFlight.delete(work);
    }
  }

  /** Delivers one record until it is handled or dead-lettered, then commits past it. */
  private async process(member: Member, consumer: Consumer, payload: EachMessagePayload): Promise<void> {
    // A closing member leaves the record uncommitted; the next owner of the partition gets it.
    if (member.closing) return;
    const { options } = member;
    const record = toBusRecord(payload);
    const stopHeartbeats = keepAlive(payload.heartbeat, this.tuning.heartbeatInterval);
    try {
      for (let deliveries = 1; ; deliveries += 1) {
        const error = await options.handler({ ...record, headers: { ...record.headers } }).then(
          () => undefined,
          (e: unknown) => e ?? new Error('handler failed'),
        );
        if (error === undefined) break;
        const fields = { groupId: options.groupId, topic: record.topic, partition: record.partition, offset: record.offset, deliveries, err: error };
        if (error instanceof DeadLetterError || deliveries >= options.maxDeliveries) {
          const reason =
            error instanceof DeadLetterError
              ? error.message
              : `handler failed ${deliveries} times: ${error instanceof Error ? error.message : String(error)}`;
          this.options.logger?.warn(fields, `record set aside on ${options.deadLetterTopic}: ${reason}`);
          if (!(await this.deadLetter(member, deadLetterFor(record, options.groupId, reason)))) return;
          break;
        }
        this.options.logger?.warn(fields, 'handler failed; the record will be delivered again');
        if (!(await this.sleep(member, retryDelay(deliveries, options.retryBackoffMs)))) return;
      }
    } finally {
      await stopHeartbeats();
    }
    await this.commit(member, consumer, payload);
  }

  /** Writes a dead letter, retrying until it is written or the subscription closes. */
  private async deadLetter(member: Member, letter: OutgoingRecord): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.send(member.options.deadLetterTopic, [letter]);
        return true;
      } catch (error) {
        this.options.logger?.error({ topic: member.options.deadLetterTopic, err: error }, 'could not write a dead letter');
        if (!(await this.sleep(member, retryDelay(attempt, 1_000)))) return false;
      }
    }
  }

  private async commit(member: Member, consumer: Consumer, payload: EachMessagePayload): Promise<void> {
    const offset = (BigInt(payload.message.offset) + 1n).toString();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await consumer.commitOffsets([{ topic: payload.topic, partition: payload.partition, offset }]);
        return;
      } catch (error) {
        // Thrown, kafkajs rejoins the group (or retries) and the record comes again: at least once.
        if (member.closing) return;
        if (attempt >= 5 || REBALANCE_ERRORS.has((error as { type?: string }).type ?? '')) throw error;
        await delay(retryDelay(attempt, 200));
      }
    }
  }

  /** Waits `ms`; false when the subscription closed meanwhile. */
  private async sleep(member: Member, ms: number): Promise<boolean> {
    await delay(ms, undefined, { signal: member.abort.signal }).catch(() => undefined);
    return !member.closing;
  }
}

function toBusRecord({ topic, partition, message }: EachMessagePayload): BusRecord {
  return {
    topic,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value === null ? '' : message.value.toString('utf8'),
    headers: headersOf(message.headers),
    partition,
    offset: message.offset,
  };
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    // A header repeated on the wire arrives as an array; the last one wins, as in a map.
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) result[name] = value.toString();
  }
  return result;
}

/** Heartbeats while a handler runs, so a long one does not cost the member its partitions. */
function keepAlive(heartbeat: () => Promise<void>, everyMs: number): () => Promise<void> {
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = heartbeat().catch(() => undefined);
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await pending;
  };
}

function saslOptions({ mechanism, username, password }: KafkaSaslOptions): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

function kafkajsLevel(logger: KafkaBusLogger | undefined): logLevel {
  if (!logger) return logLevel.NOTHING;
  switch (logger.level) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'debug':
    case 'trace':
      return logLevel.DEBUG;
    default:
      return logLevel.INFO;
  }
}

function forwardLog(logger: KafkaBusLogger | undefined, { namespace, level, log }: LogEntry): void {
  if (!logger) return;
  const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
  const entry = { kafkajs: namespace, ...fields };
  if (level === logLevel.ERROR) logger.error(entry, message);
  else if (level === logLevel.WARN) logger.warn(entry, message);
  else if (level === logLevel.INFO) logger.info(entry, message);
  else logger.debug(entry, message);
}
