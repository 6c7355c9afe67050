import { InvalidInputError } from '@apo/messages';

/** The file is larger than the loader's `maxBytes`: it would not fit in one process's memory. */
export class DatasetTooLargeError extends InvalidInputError {
  constructor(uri: string, bytes: number, maxBytes: number) {
    super(`dataset "${uri}" has ${bytes} bytes, more than the limit of ${maxBytes}`, {
      details: { uri, bytes, maxBytes },
    });
  }
}
