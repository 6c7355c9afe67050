import { PipelineError } from '@apo/messages';

/** The bus was closed; nothing more can be published or subscribed through it. */
export class BusClosedError extends PipelineError {
  constructor() {
    super('the message bus is closed', 'BUS_CLOSED', false);
  }
}
