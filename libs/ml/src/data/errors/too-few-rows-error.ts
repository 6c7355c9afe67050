import { InvalidInputError } from '@apo/messages';

/** Too few usable rows to give train, validation and test at least one row each. */
export class TooFewRowsError extends InvalidInputError {
  constructor(message: string, rows: number) {
    super(message, { details: { rows } });
  }
}
