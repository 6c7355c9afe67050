import {
  Catalog,
  InvalidMessageError,
  START_TYPE,
  STAGE_TOPICS,
  Topics,
  createMessage,
  isMessageType,
  isRetryable,
  parseMessage,
  parseStartMessage,
  toWireError,
  topicOf,
  type AdaptivePipelineStart,
  type AnyMessage,
  type MessageOf,
  type MessageType,
  type PayloadOf,
  type StageName,
  type TopicName,
} from '@apo/messages';
import { DeadLetterError, type Bus, type BusRecord, type Subscription } from '@apo/bus';
import type { Store } from '@apo/store';
import type { Logger } from 'pino';

/** What a handler gets besides its message. */
export interface HandlerContext {
  /** Logger whose every line carries the pipeline id, iteration, message id and type. */
  logger: Logger;
  record: BusRecord;
  /**
   * Builds a reply that follows from the message in hand (same pipeline, iteration; causation).
   * Its id defaults to `<message id>/<type>`: give an `id` when one message leads to two replies of a type.
   */
  reply<T extends MessageType>(type: T, payload: PayloadOf<T>, overrides?: { iteration?: number; id?: string }): MessageOf<T>;
}

/** Handles the start message a person typed (it has no envelope). */
export type StartHandler = (start: AdaptivePipelineStart, ctx: Omit<HandlerContext, 'reply'> & { messageId: string }) => Promise<AnyMessage[] | void>;

/** A stage's handlers by message type; each returns the messages to publish. */
export type StageHandlers = {
  [T in MessageType]?: (message: MessageOf<T>, ctx: HandlerContext) => Promise<AnyMessage[] | void>;
} & { [START_TYPE]?: StartHandler };

export interface StageOptions {
  stage: StageName;
  bus: Bus;
  /** Where processed-message records are kept (a redelivered message is not handled twice). */
  processed: Pick<Store, 'isProcessed' | 'markProcessed'>;
  handlers: StageHandlers;
  logger: Logger;
  /** Consumer group (default `adaptive-pipeline-<stage>`). */
  groupId?: string;
  /** Tries of a retryable failure before the stage reports `STAGE_FAILED` (default 3). */
  maxAttempts?: number;
  retryBackoffMs?: number;
  /** How long processed-message records are kept (default 7 days). */
  processedTtlMs?: number;
  /**
   * Types whose handler is idempotent on its own: handled again, it changes nothing and returns
   * the same replies (same ids). No processed-message record is read or written for them, which
   * saves two store round trips on every such message.
   */
  idempotent?: readonly MessageType[];
}

const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * The largest record a stage reads (UTF-8 bytes). The flow's own messages are a few kilobytes
 * (the largest is a profile listing a wide file's column names); anything bigger is a mistake or
 * an attack, and is set aside before it is parsed.
 */
export const MAX_RECORD_BYTES = 512 * 1024;

/** The topics a stage must read to receive the types it handles. */
export function topicsFor(handlers: StageHandlers): TopicName[] {
  const topics = new Set<TopicName>();
  for (const type of Object.keys(handlers)) {
    if (type === START_TYPE) topics.add(Topics.workflow);
    else if (type === 'STAGE_FAILED') STAGE_TOPICS.forEach((t) => topics.add(t));
    else topics.add(Catalog[type as MessageType].topics[0]);
  }
  return [...topics];
}

/**
 * Publishes messages with key = pipeline id and headers `type` and `id`, grouped by topic.
 * `STAGE_FAILED` goes to `stageTopic`, else to the topic of the message that failed, else to the
 * workflow topic.
 */
export async function publishMessages(bus: Bus, messages: AnyMessage[], stageTopic?: TopicName): Promise<void> {
  const isStageTopic = (t: TopicName | undefined): t is TopicName => t !== undefined && (STAGE_TOPICS as readonly TopicName[]).includes(t);
  const topicFor = (message: AnyMessage): TopicName => {
    if (message.type !== 'STAGE_FAILED') return topicOf(message.type);
    if (isStageTopic(stageTopic)) return stageTopic;
    const { failedType } = message.payload;
    const failedTopic = isMessageType(failedType) ? topicOf(failedType) : undefined;
    return isStageTopic(failedTopic) ? failedTopic : Topics.workflow;
  };
  const byTopic = new Map<TopicName, AnyMessage[]>();
  for (const message of messages) {
    const topic = topicFor(message);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
  }
  for (const [topic, list] of byTopic) {
    await bus.publish(
      topic,
      list.map((m) => ({ key: m.pipelineId, value: JSON.stringify(m), headers: { type: m.type, id: m.id } })),
    );
  }
}

/**
 * Runs a stage's handlers on the bus: every record is validated (a record that does not parse or
 * fails its schema goes to the dead-letter topic), checked against the processed-message
 * records, handled, and its replies published before it counts as processed. Records are per
 * attempt: a command the orchestrator sends again is handled again, so a handler must answer a
 * command it handled before with the same reply (from what it saved). A handler's error
 * becomes `STAGE_FAILED` on the stage's topic, at once when no retry can help, after
 * `maxAttempts` tries when one might. The consumer itself never stops on a bad record.
 */
export async function runStage(options: StageOptions): Promise<Subscription> {
  const groupId = options.groupId ?? `adaptive-pipeline-${options.stage}`;
  const maxAttempts = options.maxAttempts ?? 3;
  const ttl = options.processedTtlMs ?? DEFAULT_TTL_MS;
  const attempts = new Map<string, number>();
  const log = options.logger.child({ stage: options.stage });

  const idempotent = new Set<string>(options.idempotent ?? []);

  const handleRecord = async (record: BusRecord): Promise<void> => {
    const { messageId, run, meta, attempt } = dispatch(record);
    if (!run) return;
    const logger = log.child(meta);
    const recorded = !idempotent.has(String(meta['type']));
    // A command sent again (a higher attempt: its reply did not come in time, maybe lost after
    // this stage handled it) is handled again, so its reply goes out again; a copy of one attempt
    // is skipped.
    const recordId = attempt > 1 ? `${messageId}#${attempt}` : messageId;
    if (recorded && (await options.processed.isProcessed(groupId, recordId))) {
      logger.debug('already processed; skipped');
      return;
    }
    let replies: AnyMessage[];
    try {
      replies = (await run(logger)) ?? [];
      attempts.delete(messageId);
    } catch (err) {
      const tries = (attempts.get(messageId) ?? 0) + 1;
      if (isRetryable(err) && tries < maxAttempts) {
        attempts.set(messageId, tries);
        logger.warn({ err, attempt: tries }, 'handler failed; will retry');
        throw err;
      }
      attempts.delete(messageId);
      logger.error({ err, attempts: tries }, 'handler failed; reporting STAGE_FAILED');
      replies = [stageFailed(record, meta, messageId, err)];
    }
    await publishMessages(options.bus, replies, record.topic as TopicName);
    if (recorded) await options.processed.markProcessed(groupId, recordId, new Date(Date.now() + ttl));
  };

  const dispatch = (record: BusRecord) => {
    const bytes = Buffer.byteLength(record.value, 'utf8');
    if (bytes > MAX_RECORD_BYTES) {
      throw new DeadLetterError(`record of ${bytes} bytes is larger than the ${MAX_RECORD_BYTES} bytes a message may have`);
    }
    if (record.topic === Topics.workflow && isStartRecord(record)) {
      const handler = options.handlers[START_TYPE];
      if (!handler) return { messageId: '', run: null, meta: {}, attempt: 1 };
      const start = parseOrDeadLetter(() => parseStartMessage(record.value));
      const messageId = start.requestId
        ? `start:${start.requestId}`
        : `start:${record.topic}:${record.partition}:${record.offset}`;
      const meta = { messageId, type: START_TYPE, requestId: start.requestId };
      return { messageId, meta, attempt: 1, run: (logger: Logger) => handler(start, { logger, record, messageId }) };
    }
    const message = parseOrDeadLetter(() => parseMessage(record.value));
    const handler = options.handlers[message.type] as
      | ((m: AnyMessage, ctx: HandlerContext) => Promise<AnyMessage[] | void>)
      | undefined;
    const meta = {
      pipelineId: message.pipelineId,
      iteration: message.iteration,
      messageId: message.id,
      type: message.type,
    };
    if (!handler) return { messageId: message.id, run: null, meta, attempt: message.attempt };
    return {
      messageId: message.id,
      meta,
      attempt: message.attempt,
      run: (logger: Logger) =>
        handler(message, {
          logger,
          record,
          reply: (type, payload, overrides = {}) =>
            createMessage(type, {
              pipelineId: message.pipelineId,
              iteration: overrides.iteration ?? message.iteration,
              causationId: message.id,
              payload,
              // Derived from the message in hand, so a redelivered message yields the same reply
              // ids and the next stage can recognise the repeat.
              id: overrides.id ?? `${message.id}/${type}`,
            }),
        }),
    };
  };

  const stageFailed = (record: BusRecord, meta: Record<string, unknown>, messageId: string, err: unknown) => {
    const failed = safeJson(record.value);
    return createMessage('STAGE_FAILED', {
      id: `${messageId}/STAGE_FAILED`,
      pipelineId: typeof meta['pipelineId'] === 'string' ? meta['pipelineId'] : `request:${messageId}`,
      iteration: typeof meta['iteration'] === 'number' ? meta['iteration'] : 0,
      causationId: messageId,
      payload: {
        stage: options.stage,
        failedType: String(meta['type'] ?? 'unknown'),
        failedMessageId: messageId,
        error: toWireError(err),
        ...(typeof failed?.payload?.configurationId === 'string'
          ? { configurationId: failed.payload.configurationId }
          : {}),
      },
    });
  };

  return options.bus.subscribe({
    groupId,
    topics: topicsFor(options.handlers),
    handler: handleRecord,
    // One more delivery than handler attempts, so a retryable failure ends as STAGE_FAILED
    // rather than in the dead-letter topic.
    maxDeliveries: maxAttempts + 1,
    ...(options.retryBackoffMs !== undefined ? { retryBackoffMs: options.retryBackoffMs } : {}),
  });
}

function parseOrDeadLetter<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidMessageError) throw new DeadLetterError(err.message, { cause: err });
    throw err;
  }
}

/** A record on the workflow topic without an envelope id is a start message a person typed. */
function isStartRecord(record: BusRecord): boolean {
  if (record.headers['type'] === START_TYPE) return true;
  const value = safeJson(record.value);
  return value === null || value.type === undefined || value.type === START_TYPE || typeof value.id !== 'string';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function safeJson(text: string): Record<string, any> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
