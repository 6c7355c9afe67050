import { PipelineError, type PipelineErrorOptions } from '@apo/messages';

/**
 * The LLM answered, but every answer (the first and each repair) was unusable: no proposal,
 * one outside the schema's bounds, or one already tried. The message is the last reason.
 * Retryable: a later request with a different history may well get a usable answer.
 */
export class LlmAnswerError extends PipelineError {
  /** How many answers were rejected. */
  readonly answers: number;

  constructor(message: string, answers: number, options: PipelineErrorOptions = {}) {
    super(message, 'LLM_ANSWER_UNUSABLE', true, options);
    this.answers = answers;
  }
}
