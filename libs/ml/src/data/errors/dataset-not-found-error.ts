import { InvalidInputError } from '@apo/messages';

/** The dataset URI names no readable file (or the data root itself is missing). */
export class DatasetNotFoundError extends InvalidInputError {
  constructor(uri: string, reason: string) {
    super(`dataset "${uri}": ${reason}`, { details: { uri } });
  }
}
