import { InvalidInputError } from '@apo/messages';

/** A value that must be a number is not (a regression target, a numeric feature at scoring time). */
export class NonNumericValueError extends InvalidInputError {
  /** `regressionTarget` marks the target of a regression, so a caller can say which choice made it one. */
  constructor(column: string, value: string, row: number, why: string, regressionTarget = false) {
    super(`column "${column}" ${why}, but data row ${row} has "${value}"`, {
      details: { column, value, row, ...(regressionTarget ? { regressionTarget } : {}) },
    });
  }
}
