import { PipelineError, type PipelineErrorOptions } from '@apo/messages';

/**
 * A proposer found no configuration that is neither tried nor nearly tried. Not retryable:
 * the same history gives the same answer, so the pipeline should finish with its best so far.
 */
export class SearchSpaceExhaustedError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions = {}) {
    super(message, 'SEARCH_SPACE_EXHAUSTED', false, options);
  }
}
