import { PipelineError } from '@apo/messages';

/**
 * The training loss, or the trained model's output, became NaN or infinite (a learning rate too
 * large for the data, usually). The same configuration on the same data diverges again, so it is
 * not retryable; the optimizer should propose something else.
 */
export class TrainingDivergedError extends PipelineError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, 'NAN_LOSS', false, { details });
  }
}
