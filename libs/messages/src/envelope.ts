import { z } from 'zod';

export const ENVELOPE_VERSION = 1;

/** Fields every message but the start message carries around its `payload`. */
export const EnvelopeFields = {
  /** Unique per message; a redelivery keeps it, so consumers de-duplicate on it. */
  id: z.string().min(1).max(200),
  pipelineId: z.string().min(1).max(200),
  /** 0 before the first configuration, then 1, 2, ... */
  iteration: z.int().min(0),
  /** 1 for the first send of a command, +1 for each re-send after a timeout. */
  attempt: z.int().min(1).default(1),
  /** Id of the message this one answers or follows from; null for the first of a pipeline. */
  causationId: z.string().min(1).max(200).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  version: z.literal(ENVELOPE_VERSION).default(ENVELOPE_VERSION),
};

/** Builds the schema of one message type: the envelope around `payload`. */
export function envelope<const T extends string, P extends z.ZodType>(type: T, payload: P) {
  return z.object({ ...EnvelopeFields, type: z.literal(type), payload });
}

/** The envelope with a payload not yet checked (what a consumer reads before dispatching). */
export const AnyEnvelope = z.object({ ...EnvelopeFields, type: z.string().min(1), payload: z.unknown() });
export type AnyEnvelope = z.infer<typeof AnyEnvelope>;
