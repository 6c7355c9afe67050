import { PipelineError } from '@apo/messages';

/** The record does not exist. */
export class RecordNotFoundError extends PipelineError {
  constructor(collection: string, id: string) {
    super(`${collection} ${id} does not exist`, 'NOT_FOUND', false, { details: { collection, id } });
  }
}
