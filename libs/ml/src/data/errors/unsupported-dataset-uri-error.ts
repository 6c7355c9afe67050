import { InvalidInputError } from '@apo/messages';

/** A dataset URI with a scheme this loader cannot read (`s3:`, `http:`) or a malformed `file:` URI. */
export class UnsupportedDatasetUriError extends InvalidInputError {
  constructor(uri: string, reason: string) {
    super(`dataset "${uri}": ${reason}`, { details: { uri } });
  }
}
