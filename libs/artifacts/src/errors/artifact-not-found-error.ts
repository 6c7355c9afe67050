import { PipelineError } from '@apo/messages';

/** No artifact at the URI (never written, deleted, or written to another store). */
export class ArtifactNotFoundError extends PipelineError {
  constructor(uri: string) {
    super(`no artifact at ${uri}`, 'ARTIFACT_NOT_FOUND', false, { details: { uri } });
  }
}
