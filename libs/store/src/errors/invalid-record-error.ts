import { PipelineError } from '@apo/messages';

/**
 * A record holds a value that not every store adapter can keep as it is (see `document-rules.ts`).
 * Writing it again cannot succeed, so it is not retryable.
 */
export class InvalidRecordError extends PipelineError {
  constructor(collection: string, path: string, reason: string) {
    super(`${collection}: ${path === '' ? 'the record' : path} ${reason}`, 'INVALID_RECORD', false, {
      details: { collection, path, reason },
    });
  }
}
