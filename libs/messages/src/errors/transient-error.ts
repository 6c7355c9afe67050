import { PipelineError, type PipelineErrorOptions } from './pipeline-error.ts';

/** A failure of something outside the work itself (network, a busy service): worth retrying. */
export class TransientError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions = {}) {
    super(message, 'TRANSIENT', true, options);
  }
}
