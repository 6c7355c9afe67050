/** A record as a consumer receives it. */
export interface BusRecord {
  topic: string;
  /** Records with the same key are delivered in the order they were published. */
  key: string | null;
  /** UTF-8 text (JSON for every message of the flow). */
  value: string;
  headers: Record<string, string>;
  partition: number;
  /** Position in the partition, as a decimal string (Kafka offsets exceed 2^53). */
  offset: string;
}

/** A record to publish. */
export interface OutgoingRecord {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
}

/**
 * Handles one record. Resolving commits it. Throwing gets it delivered again after a backoff,
 * holding back later records of its partition; throwing `DeadLetterError` sets it aside on the
 * dead-letter topic at once, and so does the last allowed delivery failing.
 */
export type RecordHandler = (record: BusRecord) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: each record is handled by one member of each group. */
  groupId: string;
  topics: string[];
  handler: RecordHandler;
  /** Where a new group starts: the oldest record (default) or only records published later. */
  fromBeginning?: boolean;
  /** Deliveries of one record before it goes to the dead-letter topic (default 5). */
  maxDeliveries?: number;
  /** First redelivery delay in ms, doubled each time up to 10 s (default 200). */
  retryBackoffMs?: number;
  /** Where records that cannot be handled go (default `adaptive-pipeline-dead-letter`). */
  deadLetterTopic?: string;
}

/** A running subscription. */
export interface Subscription {
  /** Stops deliveries to this member, waits for the record in hand, and leaves the group. */
  close(): Promise<void>;
}

/**
 * The message bus port. The in-memory adapter and the Kafka adapter pass the same contract
 * suite (`@apo/bus/testing`); no driver-specific type appears here.
 */
export interface Bus {
  /** Makes sure the topics exist (creating them with `partitions` where the bus can). */
  ensureTopics(topics: string[], options?: { partitions?: number }): Promise<void>;

  /** Publishes records to a topic; resolves once the bus has accepted all of them. */
  publish(topic: string, records: OutgoingRecord[]): Promise<void>;

  /** Joins a consumer group and delivers records to `handler` until the subscription closes. */
  subscribe(options: SubscribeOptions): Promise<Subscription>;

  /** Closes every subscription and connection of this bus instance. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_DELIVERIES = 5;
export const DEFAULT_RETRY_BACKOFF_MS = 200;
export const MAX_RETRY_BACKOFF_MS = 10_000;

/** The delay before delivery number `delivery + 1` of a record that failed `delivery` times. */
export function retryDelay(delivery: number, baseMs: number): number {
  return Math.min(MAX_RETRY_BACKOFF_MS, baseMs * 2 ** Math.max(0, delivery - 1));
}
