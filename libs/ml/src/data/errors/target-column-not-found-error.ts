import { InvalidInputError } from '@apo/messages';

/** The requested target column is not in the header. */
export class TargetColumnNotFoundError extends InvalidInputError {
  constructor(target: string, columns: readonly string[]) {
    const near = columns.find((c) => c.toLowerCase() === target.toLowerCase());
    super(
      `target column "${target}" is not in the dataset${near ? ` (did you mean "${near}"?)` : ''}; columns are ${columns.map((c) => `"${c}"`).join(', ')}`,
      { details: { target, columns: [...columns] } },
    );
  }
}
