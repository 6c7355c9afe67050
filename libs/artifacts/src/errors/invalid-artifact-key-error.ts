import { PipelineError } from '@apo/messages';

/** A key or URI this store cannot use. */
export class InvalidArtifactKeyError extends PipelineError {
  constructor(key: string, why: string) {
    super(`invalid artifact key or URI "${key}": ${why}`, 'INVALID_ARTIFACT_KEY', false, { details: { key } });
  }
}
