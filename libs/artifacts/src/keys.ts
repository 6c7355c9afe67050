import { InvalidArtifactKeyError } from './errors/invalid-artifact-key-error.ts';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=-]*$/;

/** Checks a key is a relative path of safe segments, so no store can be escaped through it. */
export function assertValidKey(key: string): string {
  if (key.length === 0 || key.length > 512) throw new InvalidArtifactKeyError(key, 'must be 1 to 512 characters');
  for (const segment of key.split('/')) {
    if (segment === '.' || segment === '..' || !SEGMENT.test(segment)) {
      throw new InvalidArtifactKeyError(
        key,
        `segment "${segment}" must start with a letter, digit or "_" and hold only letters, digits, ".", "_", "=", "-"`,
      );
    }
  }
  return key;
}

/** Joins key segments, checking the result. */
export function artifactKey(...segments: string[]): string {
  return assertValidKey(segments.join('/'));
}
