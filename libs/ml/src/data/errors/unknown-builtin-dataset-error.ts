import { InvalidInputError } from '@apo/messages';

/** A `builtin:` URI whose name is not one of the bundled datasets. */
export class UnknownBuiltinDatasetError extends InvalidInputError {
  constructor(uri: string, builtins: readonly string[]) {
    super(`unknown built-in dataset "${uri}"; built-ins are ${builtins.map((b) => `builtin:${b}`).join(', ')}`, {
      details: { uri, builtins: [...builtins] },
    });
  }
}
