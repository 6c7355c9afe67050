/**
 * A positive integer option, or its default.
 * @throws RangeError naming the option when it is not a positive integer.
 */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) {
    throw new RangeError(`${name} must be a positive integer (got ${resolved})`);
  }
  return resolved;
}

/** Candidates a proposer looks at before it declares the space exhausted. */
export const DEFAULT_MAX_ATTEMPTS = 1000;
