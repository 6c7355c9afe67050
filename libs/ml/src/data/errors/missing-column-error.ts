import { InvalidInputError } from '@apo/messages';

/** Rows to transform lack a column the preprocessing was fitted with. */
export class MissingColumnError extends InvalidInputError {
  constructor(column: string, columns: readonly string[]) {
    super(`column "${column}" is missing; the rows have ${columns.map((c) => `"${c}"`).join(', ')}`, {
      details: { column, columns: [...columns] },
    });
  }
}
