import { z } from 'zod';

/** What a consumer writes to `adaptive-pipeline-dead-letter` for a record it cannot use. */
export const DeadLetterRecord = z.object({
  /** Topic the record was read from. */
  topic: z.string(),
  partition: z.int().nullable(),
  offset: z.string().nullable(),
  key: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
  /** The record's value as received (UTF-8 text). */
  value: z.string(),
  /** Why it was set aside, naming the field at fault when there is one. */
  reason: z.string(),
  consumerGroup: z.string(),
  failedAt: z.iso.datetime({ offset: true }),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecord>;
