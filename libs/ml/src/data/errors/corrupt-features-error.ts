import { PipelineError } from '@apo/messages';

/**
 * Saved features that do not match their manifest (truncated, altered, wrong format). Reading the
 * same bytes again cannot help, so it is not retryable; preparing them again can.
 */
export class CorruptFeaturesError extends PipelineError {
  constructor(what: string, problem: string) {
    super(`corrupt features at ${what}: ${problem}`, 'CORRUPT_FEATURES', false, { details: { what } });
  }
}
