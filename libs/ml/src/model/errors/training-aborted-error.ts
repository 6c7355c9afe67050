import { PipelineError } from '@apo/messages';

/**
 * Training stopped because its abort signal fired (a shutting-down service, usually). Nothing
 * was wrong with the work itself, so running it again may succeed.
 */
export class TrainingAbortedError extends PipelineError {
  constructor(epoch: number, reason: unknown) {
    super(`training aborted during epoch ${epoch}`, 'TRAINING_ABORTED', true, {
      cause: reason,
      details: { epoch },
    });
  }
}
