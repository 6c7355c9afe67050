import { InvalidInputError } from '@apo/messages';

/** A value that must be a number is not (a regression target, a numeric feature at scoring time). */
export class NonNumericValueError extends InvalidInputError {
  constructor(column: string, value: string, row: number, why: string) {
    super(`column "${column}" ${why}, but data row ${row} has "${value}"`, { details: { column, value, row } });
  }
}
