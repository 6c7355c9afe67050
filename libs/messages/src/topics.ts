/** Kafka topic names of the flow. Users type these into Kafka tools: never rename one. */
export const Topics = {
  workflow: 'adaptive-pipeline-workflow',
  config: 'adaptive-pipeline-config-topic',
  model: 'adaptive-pipeline-model-topic',
  features: 'adaptive-pipeline-features-topic',
  predict: 'adaptive-pipeline-predict-topic',
  notifications: 'adaptive-pipeline-notifications',
  deadLetter: 'adaptive-pipeline-dead-letter',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly TopicName[] = Object.values(Topics);

/** Topics a stage can fail on (each stage reports `STAGE_FAILED` on its own topic). */
export const STAGE_TOPICS = [
  Topics.workflow,
  Topics.config,
  Topics.model,
  Topics.features,
  Topics.predict,
] as const satisfies readonly TopicName[];
