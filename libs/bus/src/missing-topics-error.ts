import { PipelineError } from '@apo/messages';

/** Topics the bus needs do not exist, and it was told not to create them. */
export class MissingTopicsError extends PipelineError {
  readonly topics: readonly string[];

  constructor(topics: string[]) {
    super(
      `Kafka topics missing: ${topics.join(', ')} (create them, or let the bus create them with createTopics: true)`,
      'TOPICS_MISSING',
      false,
      { details: { topics } },
    );
    this.topics = [...topics];
  }
}
