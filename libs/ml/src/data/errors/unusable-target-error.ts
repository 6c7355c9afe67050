import { InvalidInputError } from '@apo/messages';

/** The target column cannot be learned as asked: a single class, or a class too rare to split. */
export class UnusableTargetError extends InvalidInputError {
  constructor(target: string, problem: string) {
    super(`target column "${target}": ${problem}`, { details: { target } });
  }
}
