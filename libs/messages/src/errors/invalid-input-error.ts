import { PipelineError, type PipelineErrorOptions } from './pipeline-error.ts';

/** Input the user gave that the pipeline cannot work with (a dataset, a target column). */
export class InvalidInputError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions = {}) {
    super(message, 'INVALID_INPUT', false, options);
  }
}
