import type { DeadLetterRecord } from '@apo/messages';
import type { BusRecord, OutgoingRecord } from './bus.ts';

/** The dead-letter record for `record`, keyed like the original so operators can find it. */
export function deadLetterFor(record: BusRecord, groupId: string, reason: string): OutgoingRecord {
  const body: DeadLetterRecord = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    headers: record.headers,
    value: record.value,
    reason,
    consumerGroup: groupId,
    failedAt: new Date().toISOString(),
  };
  return {
    key: record.key,
    value: JSON.stringify(body),
    headers: { type: 'DEAD_LETTER', 'original-topic': record.topic },
  };
}
