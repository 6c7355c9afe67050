import { PipelineError } from './pipeline-error.ts';

/** A message or request that does not fit its schema. Sending it again cannot help. */
export class InvalidMessageError extends PipelineError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, 'INVALID_MESSAGE', false, details ? { details } : {});
  }
}
