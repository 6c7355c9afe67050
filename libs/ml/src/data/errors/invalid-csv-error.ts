import { InvalidInputError } from '@apo/messages';

/** The file is not a usable CSV table: empty, no data rows, ragged rows, a bad header, binary. */
export class InvalidCsvError extends InvalidInputError {
  /** 1-based line of the file the problem starts on, when there is one. */
  readonly line: number | undefined;

  constructor(uri: string, problem: string, line?: number) {
    super(`dataset "${uri}" is not a usable CSV: ${line === undefined ? '' : `line ${line}: `}${problem}`, {
      details: { uri, ...(line === undefined ? {} : { line }) },
    });
    this.line = line;
  }
}
