import { PipelineError } from '@apo/messages';

/** Topics exist but some of their partitions still have no leader, so nothing can be read or written yet. */
export class TopicsNotReadyError extends PipelineError {
  readonly topics: readonly string[];

  constructor(topics: string[], waitedMs: number, options: { cause?: unknown } = {}) {
    super(`Kafka topics ${topics.join(', ')} have partitions without a leader after ${waitedMs} ms`, 'TOPICS_NOT_READY', true, {
      ...options,
      details: { topics },
    });
    this.topics = [...topics];
  }
}
