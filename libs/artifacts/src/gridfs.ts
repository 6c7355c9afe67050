import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GridFSBucket,
  MongoClient,
  MongoError,
  MongoGridFSChunkError,
  MongoNetworkError,
  MongoRuntimeError,
  MongoServerSelectionError,
  type Collection,
  type GridFSFile,
  type ObjectId,
} from 'mongodb';
import { TransientError } from '@apo/messages';
import type { ArtifactBody, ArtifactStore } from './artifact-store.ts';
import { ArtifactNotFoundError } from './errors/artifact-not-found-error.ts';
import { InvalidArtifactKeyError } from './errors/invalid-artifact-key-error.ts';
import { assertValidKey } from './keys.ts';

/** Where `GridFsArtifactStore` keeps its artifacts. */
export interface GridFsArtifactStoreOptions {
  /** A `mongodb://` URI; the store opens (and `close` closes) its own client. */
  uri?: string;
  /** An open client to share; `close` leaves it open. Takes precedence over `uri`. */
  client?: MongoClient;
  /** Database name; default: the URI's path, else `adaptive_pipeline`. */
  dbName?: string;
  /** GridFS bucket (collections `<bucket>.files`, `<bucket>.chunks`); default `artifacts`. */
  bucketName?: string;
}

const DEFAULT_DB_NAME = 'adaptive_pipeline';
const DEFAULT_BUCKET = 'artifacts';
const BUCKET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
// A read that finds its file replaced (deleted under it) looks again this many times.
const READ_ATTEMPTS = 3;
/** The order in which a key's files are newest first: upload date, then id among equal dates. */
const NEWEST_FIRST = { uploadDate: -1, _id: -1 } as const;

function dbNameFromUri(uri: string): string | undefined {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(uri)?.[1];
  return path ? decodeURIComponent(path) : undefined;
}

/** A driver failure that trying again may cure (the server away, a failover) as `TransientError`. */
function transientOr(err: unknown): unknown {
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    (err instanceof MongoError && err.hasErrorLabel('RetryableWriteError'))
  ) {
    return new TransientError(`GridFS artifact store unavailable: ${err.message}`, { cause: err });
  }
  return err;
}

/** The driver's "that file (or one of its chunks) is gone" while a read was under way. */
function isFileGone(err: unknown): boolean {
  return (
    err instanceof MongoGridFSChunkError ||
    (err instanceof MongoRuntimeError && /FileNotFound|File not found|File with id .* not found/.test(err.message))
  );
}

/**
 * Artifacts in MongoDB GridFS, so every host that reaches the database reaches them. URIs are
 * `gridfs://<bucket>/<key>` (for example `gridfs://artifacts/models/p1/c1/model.json`); the key is
 * the GridFS filename, so `db.artifacts.files.find({ filename: /^models\// })` lists them.
 *
 * A put uploads a new GridFS file under the key and, once it is complete, deletes the key's older
 * files. GridFS writes a file's `files` document after its last chunk, so readers (which take the
 * newest complete file of a key) see the old object or the whole new one; a body that fails
 * midway leaves no `files` document (its chunks are deleted). Of two puts of one key at once, the
 * later upload stays. Works on MongoDB and FerretDB 1.24 alike (plain inserts, finds, deletes).
 */
export class GridFsArtifactStore implements ArtifactStore {
  private readonly client: MongoClient;
  private readonly ownsClient: boolean;
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<GridFSFile>;
  private readonly chunks: Collection;
  private readonly bucketName: string;
  private closed = false;

  constructor(options: GridFsArtifactStoreOptions) {
    const { client: shared, uri } = options;
    if (!shared && !uri) throw new TypeError('GridFsArtifactStore needs a uri or a client');
    this.bucketName = options.bucketName ?? DEFAULT_BUCKET;
    if (!BUCKET_NAME.test(this.bucketName)) {
      throw new TypeError(`bucket name "${this.bucketName}" must be 1 to 64 letters, digits, "_" or "-"`);
    }
    // The driver connects on first use, so construction stays synchronous like the other adapters.
    this.client = shared ?? new MongoClient(uri!);
    this.ownsClient = !shared;
    const db = this.client.db(options.dbName ?? (uri ? dbNameFromUri(uri) : undefined) ?? DEFAULT_DB_NAME);
    this.bucket = new GridFSBucket(db, { bucketName: this.bucketName });
    this.files = db.collection<GridFSFile>(`${this.bucketName}.files`);
    this.chunks = db.collection(`${this.bucketName}.chunks`);
  }

  uriFor(key: string): string {
    return `gridfs://${this.bucketName}/${assertValidKey(key)}`;
  }

  async put(key: string, body: ArtifactBody): Promise<string> {
    const uri = this.uriFor(key);
    try {
      const upload = this.bucket.openUploadStream(key);
      try {
        await pipeline(body instanceof Uint8Array ? Readable.from([body]) : Readable.from(body), upload);
      } catch (err) {
        // No files document was written, so readers never see it; drop the chunks sent so far
        // (abort deletes them too, but a chunk insert still in flight may land after it).
        await upload.abort().catch(() => undefined);
        await this.chunks.deleteMany({ files_id: upload.id }).catch(() => undefined);
        throw err;
      }
      await this.keepNewest(key);
      return uri;
    } catch (err) {
      throw transientOr(err);
    }
  }

  async get(uri: string): Promise<Buffer> {
    const key = this.keyOf(uri);
    try {
      for (let attempt = 1; ; attempt++) {
        const file = await this.newest(key);
        if (!file) throw new ArtifactNotFoundError(uri);
        try {
          const chunks: Buffer[] = [];
          for await (const chunk of this.bucket.openDownloadStream(file._id)) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks);
        } catch (err) {
          // Replaced (and so deleted) while it was read: the newer one is complete by now.
          if (!isFileGone(err) || attempt >= READ_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      throw transientOr(err);
    }
  }

  /**
   * The newest complete file of the key as a stream. If another put replaces the object while the
   * stream is read, the stream fails (the old file's chunks are deleted); reading again gets the
   * new object.
   */
  async getStream(uri: string): Promise<Readable> {
    const key = this.keyOf(uri);
    let file: GridFSFile | null;
    try {
      file = await this.newest(key);
    } catch (err) {
      throw transientOr(err);
    }
    if (!file) throw new ArtifactNotFoundError(uri);
    return this.bucket.openDownloadStream(file._id);
  }

  async exists(uri: string): Promise<boolean> {
    const key = this.keyOf(uri);
    try {
      return (await this.newest(key)) !== null;
    } catch (err) {
      throw transientOr(err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    try {
      const filter = prefix === '' ? {} : { filename: { $regex: `^${escapeRegex(prefix)}` } };
      const names = await this.files.find(filter, { projection: { filename: 1 } }).toArray();
      // A key being replaced has two files for a moment; it is one key.
      return [...new Set(names.map((f) => f.filename))].filter((k) => k.startsWith(prefix)).sort();
    } catch (err) {
      throw transientOr(err);
    }
  }

  async delete(uri: string): Promise<boolean> {
    const key = this.keyOf(uri);
    try {
      const files = await this.files.find({ filename: key }, { projection: { _id: 1 } }).toArray();
      let deleted = false;
      for (const file of files) deleted = (await this.deleteFile(file._id)) || deleted;
      return deleted;
    } catch (err) {
      throw transientOr(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.close();
  }

  /** The key's newest complete file: the latest upload date, the latest id among equal dates. */
  private newest(key: string): Promise<GridFSFile | null> {
    return this.files.find({ filename: key }).sort(NEWEST_FIRST).limit(1).next();
  }

  /**
   * Deletes every file of the key but the newest (in the order `newest` uses). A put's upload date
   * is taken before its files document is written, so two puts side by side may each miss the
   * other's document; whichever looks last sees both, and may delete its own file if the other
   * is newer. The newest complete file wins either way, and one file per key remains.
   */
  private async keepNewest(key: string): Promise<void> {
    const [, ...older] = await this.files.find({ filename: key }).sort(NEWEST_FIRST).toArray();
    for (const file of older) await this.deleteFile(file._id);
  }

  /** Deletes one file and its chunks; false if someone else deleted it first. */
  private async deleteFile(id: ObjectId): Promise<boolean> {
    try {
      await this.bucket.delete(id);
      return true;
    } catch (err) {
      if (isFileGone(err)) return false;
      throw err;
    }
  }

  /** The key in a URI of this store; refuses other schemes and other buckets. */
  private keyOf(uri: string): string {
    const prefix = `gridfs://${this.bucketName}/`;
    if (!uri.startsWith(prefix)) {
      throw new InvalidArtifactKeyError(uri, `this store holds ${prefix}<key> URIs`);
    }
    return assertValidKey(uri.slice(prefix.length));
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
