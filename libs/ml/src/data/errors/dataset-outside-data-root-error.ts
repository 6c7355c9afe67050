import { InvalidInputError } from '@apo/messages';

/**
 * The dataset path leads outside the data root (by `..`, an absolute path or a symlink), so it is
 * refused: a start message must not be able to read arbitrary files of the host.
 */
export class DatasetOutsideDataRootError extends InvalidInputError {
  constructor(uri: string, dataRoot: string) {
    super(`dataset "${uri}" is outside the data root ${dataRoot}; only files under it can be read`, {
      details: { uri, dataRoot },
    });
  }
}
