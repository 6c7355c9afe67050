import { PipelineError } from '@apo/messages';

/** Thrown by a handler for a record no retry can help (it does not parse, fails its schema). */
export class DeadLetterError extends PipelineError {
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(reason, 'DEAD_LETTER', false, options);
  }
}
