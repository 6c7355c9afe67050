import type { Readable } from 'node:stream';

/** Bytes to store: a buffer, or a stream for large objects. */
export type ArtifactBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * The artifact port: models and feature sets, stored under keys such as
 * `models/<pipeline>/<configuration>/model.json` and passed between stages as URIs. Adapters: a
 * local directory (one host) and MongoDB GridFS (many hosts); both pass `@apo/artifacts/testing`.
 */
export interface ArtifactStore {
  /** The URI `key` has (or would have) in this store, without touching storage. */
  uriFor(key: string): string;

  /**
   * Stores `body` under `key`, replacing what was there, and returns its URI. Readers see the old
   * object or the whole new one, never part of it; if the body fails midway nothing is stored.
   * Throws `InvalidArtifactKeyError` for a key with empty, `.` or `..` segments or odd characters.
   */
  put(key: string, body: ArtifactBody): Promise<string>;

  /** The whole object. Throws `ArtifactNotFoundError` if there is none at `uri`. */
  get(uri: string): Promise<Buffer>;

  /** The object as a stream, for large objects. Throws `ArtifactNotFoundError` if missing. */
  getStream(uri: string): Promise<Readable>;

  /** Whether an object exists at `uri`. */
  exists(uri: string): Promise<boolean>;

  /** Keys that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;

  /** Deletes the object; false if there was none. */
  delete(uri: string): Promise<boolean>;

  /** Releases connections. */
  close(): Promise<void>;
}
