import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AnyEnvelope, envelope } from './envelope.ts';
import { InvalidMessageError } from './errors/invalid-message-error.ts';
import { formatIssues } from './format-issues.ts';
import * as P from './payloads.ts';
import { STAGE_TOPICS, Topics, type TopicName } from './topics.ts';

/** One schema per message type of the flow: the envelope around that type's payload. */
export const GetConfigurationMessage = envelope('GET_CONFIGURATION', P.GetConfiguration);
export type GetConfigurationMessage = z.infer<typeof GetConfigurationMessage>;
export const GenerateNewLlmConfigurationMessage = envelope(
  'GENERATE_NEW_LLM_CONFIGURATION',
  P.GenerateNewLlmConfiguration,
);
export type GenerateNewLlmConfigurationMessage = z.infer<typeof GenerateNewLlmConfigurationMessage>;
export const NewLlmConfigurationReadyMessage = envelope(
  'NEW_LLM_CONFIGURATION_READY',
  P.NewLlmConfigurationReady,
);
export type NewLlmConfigurationReadyMessage = z.infer<typeof NewLlmConfigurationReadyMessage>;
export const GenerateModelMessage = envelope('GENERATE_MODEL', P.GenerateModel);
export type GenerateModelMessage = z.infer<typeof GenerateModelMessage>;
export const ModelReadyMessage = envelope('MODEL_READY', P.ModelReady);
export type ModelReadyMessage = z.infer<typeof ModelReadyMessage>;
export const PrepareFeaturesMessage = envelope('PREPARE_FEATURES', P.PrepareFeatures);
export type PrepareFeaturesMessage = z.infer<typeof PrepareFeaturesMessage>;
export const FeaturesReadyMessage = envelope('FEATURES_READY', P.FeaturesReady);
export type FeaturesReadyMessage = z.infer<typeof FeaturesReadyMessage>;
export const RunModelMessage = envelope('RUN_MODEL', P.RunModel);
export type RunModelMessage = z.infer<typeof RunModelMessage>;
export const PredictionReadyMessage = envelope('PREDICTION_READY', P.PredictionReady);
export type PredictionReadyMessage = z.infer<typeof PredictionReadyMessage>;
export const PipelineFinishedMessage = envelope('PIPELINE_FINISHED', P.PipelineFinished);
export type PipelineFinishedMessage = z.infer<typeof PipelineFinishedMessage>;
export const CancelPipelineMessage = envelope('CANCEL_PIPELINE', P.CancelPipeline);
export type CancelPipelineMessage = z.infer<typeof CancelPipelineMessage>;
export const StageFailedMessage = envelope('STAGE_FAILED', P.StageFailed);
export type StageFailedMessage = z.infer<typeof StageFailedMessage>;

/**
 * Message type → topics it travels on (the first is where it is published by default) →
 * schema. `STAGE_FAILED` goes on the failing stage's own topic, so it lists each of them.
 */
export const Catalog = {
  GET_CONFIGURATION: { topics: [Topics.config], schema: GetConfigurationMessage },
  GENERATE_NEW_LLM_CONFIGURATION: {
    topics: [Topics.config],
    schema: GenerateNewLlmConfigurationMessage,
  },
  NEW_LLM_CONFIGURATION_READY: { topics: [Topics.config], schema: NewLlmConfigurationReadyMessage },
  GENERATE_MODEL: { topics: [Topics.model], schema: GenerateModelMessage },
  MODEL_READY: { topics: [Topics.model], schema: ModelReadyMessage },
  PREPARE_FEATURES: { topics: [Topics.features], schema: PrepareFeaturesMessage },
  FEATURES_READY: { topics: [Topics.features], schema: FeaturesReadyMessage },
  RUN_MODEL: { topics: [Topics.predict], schema: RunModelMessage },
  PREDICTION_READY: { topics: [Topics.predict], schema: PredictionReadyMessage },
  PIPELINE_FINISHED: { topics: [Topics.notifications], schema: PipelineFinishedMessage },
  // An addition to the flow of the design: sent by operators, read by the orchestrator.
  CANCEL_PIPELINE: { topics: [Topics.workflow], schema: CancelPipelineMessage },
  STAGE_FAILED: { topics: STAGE_TOPICS, schema: StageFailedMessage },
} as const satisfies Record<string, { topics: readonly TopicName[]; schema: z.ZodType }>;

export type MessageType = keyof typeof Catalog;
export const MESSAGE_TYPES = Object.keys(Catalog) as MessageType[];

/** The full message (envelope + payload) of a type. */
export type MessageOf<T extends MessageType> = z.infer<(typeof Catalog)[T]['schema']>;
/** The payload of a type. */
export type PayloadOf<T extends MessageType> = MessageOf<T>['payload'];
/** Any message of the catalog. */
export type AnyMessage = { [T in MessageType]: MessageOf<T> }[MessageType];

export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(Catalog, type);
}

/** The topic a message of `type` is published to (for `STAGE_FAILED`, pass the stage's topic). */
export function topicOf(type: MessageType, stageTopic?: TopicName): TopicName {
  const { topics } = Catalog[type];
  if (stageTopic !== undefined) {
    if (!(topics as readonly TopicName[]).includes(stageTopic)) {
      throw new InvalidMessageError(`${type} is not sent on topic "${stageTopic}"`);
    }
    return stageTopic;
  }
  return topics[0];
}

export interface MessageInit<T extends MessageType> {
  pipelineId: string;
  iteration: number;
  payload: PayloadOf<T>;
  causationId?: string | null;
  /** Give the same id when re-sending a command, so its consumer can de-duplicate. */
  id?: string;
  attempt?: number;
  createdAt?: Date;
}

/** Builds a checked message of `type`; throws `InvalidMessageError` if the payload is wrong. */
export function createMessage<T extends MessageType>(type: T, init: MessageInit<T>): MessageOf<T> {
  const candidate = {
    id: init.id ?? randomUUID(),
    type,
    pipelineId: init.pipelineId,
    iteration: init.iteration,
    attempt: init.attempt ?? 1,
    causationId: init.causationId ?? null,
    createdAt: (init.createdAt ?? new Date()).toISOString(),
    version: 1,
    payload: init.payload,
  };
  return checkMessage(type, candidate) as MessageOf<T>;
}

function checkMessage(type: MessageType, value: unknown): AnyMessage {
  const parsed = Catalog[type].schema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    throw new InvalidMessageError(`invalid ${type} message: ${formatIssues(parsed.error)}`);
  }
  return parsed.data as AnyMessage;
}

/**
 * Parses a received record (JSON text or a value) into a typed message of the catalog. Throws
 * `InvalidMessageError` naming the field at fault: not JSON, no envelope, unknown type, or a
 * payload that does not fit its type.
 */
export function parseMessage(input: unknown): AnyMessage {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new InvalidMessageError(`record is not JSON: ${(err as Error).message}`);
    }
  }
  const head = AnyEnvelope.safeParse(value, { reportInput: true });
  if (!head.success) {
    throw new InvalidMessageError(`invalid message envelope: ${formatIssues(head.error)}`);
  }
  if (!isMessageType(head.data.type)) {
    throw new InvalidMessageError(
      `unknown message type "${head.data.type}"; expected one of ${MESSAGE_TYPES.join(', ')}`,
    );
  }
  return checkMessage(head.data.type, value);
}
