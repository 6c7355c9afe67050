import { PipelineError } from '@apo/messages';

/** A step got no reply within its timeout, after every retry: its trial fails with this reason. */
export class StepTimeoutError extends PipelineError {
  constructor(details: { step: string; command: string; waitedFor: string; seconds: number; tries: number }) {
    super(
      `step "${details.step}" got no ${details.waitedFor} within ${details.seconds} s (${details.command} sent ${details.tries} time${details.tries === 1 ? '' : 's'})`,
      'STEP_TIMEOUT',
      false,
      { details },
    );
  }
}
