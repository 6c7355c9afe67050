import { PipelineError } from '@apo/messages';

/**
 * The requested TensorFlow.js backend cannot run in this process: its package is not installed,
 * it failed to initialise, or another backend already runs here. Retrying does not install it.
 */
export class BackendUnavailableError extends PipelineError {
  constructor(message: string, requested: string, available: readonly string[]) {
    super(message, 'BACKEND_UNAVAILABLE', false, { details: { requested, available: [...available] } });
  }
}
