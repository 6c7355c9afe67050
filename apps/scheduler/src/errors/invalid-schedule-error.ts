import { PipelineError, type PipelineErrorOptions } from '@apo/messages';

/** A schedule that cannot be kept (a bad cron, time zone, name or start message); the message names the field. */
export class InvalidScheduleError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions = {}) {
    super(message, 'INVALID_SCHEDULE', false, options);
  }
}
