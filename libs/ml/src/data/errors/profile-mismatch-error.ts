import { PipelineError } from '@apo/messages';

/** A profile used with a table it was not made from (another file, another target). */
export class ProfileMismatchError extends PipelineError {
  constructor(problem: string) {
    super(`the profile does not belong to this table: ${problem}`, 'PROFILE_MISMATCH', false);
  }
}
