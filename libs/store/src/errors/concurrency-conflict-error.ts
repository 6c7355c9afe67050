import { PipelineError } from '@apo/messages';

/** Someone updated the record after it was read. Re-read and try again. */
export class ConcurrencyConflictError extends PipelineError {
  constructor(collection: string, id: string, expectedVersion: number) {
    super(
      `${collection} ${id}: expected version ${expectedVersion}, but it changed since it was read`,
      'CONCURRENCY_CONFLICT',
      true,
      { details: { collection, id, expectedVersion } },
    );
  }
}
