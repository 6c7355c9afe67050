import { PipelineError } from '@apo/messages';

/** A record with the same unique key exists already. */
export class DuplicateRecordError extends PipelineError {
  constructor(collection: string, key: string) {
    super(`${collection}: ${key} exists already`, 'DUPLICATE', false, { details: { collection, key } });
  }
}
