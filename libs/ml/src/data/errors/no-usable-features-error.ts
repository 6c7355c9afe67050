import { InvalidInputError } from '@apo/messages';

/** Every column except the target was dropped (constant, identifier, ...), so nothing is left to learn from. */
export class NoUsableFeaturesError extends InvalidInputError {
  constructor(target: string, dropped: readonly { name: string; reason: string }[]) {
    const list = dropped.map((d) => `"${d.name}" (${d.reason})`).join(', ');
    super(`no usable feature columns besides the target "${target}"${list ? `; dropped: ${list}` : ''}`, {
      details: { target, dropped: dropped.map((d) => ({ ...d })) },
    });
  }
}
