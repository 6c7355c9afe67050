import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ArtifactBody, ArtifactStore } from './artifact-store.ts';
import { ArtifactNotFoundError } from './errors/artifact-not-found-error.ts';
import { InvalidArtifactKeyError } from './errors/invalid-artifact-key-error.ts';
import { assertValidKey } from './keys.ts';

const TEMP_DIR = '.incoming';

/** Artifacts as files under one directory, with `file://` URIs. For one host. */
export class LocalDirArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(options: { dir: string }) {
    this.root = resolve(options.dir);
  }

  uriFor(key: string): string {
    return pathToFileURL(join(this.root, assertValidKey(key))).href;
  }

  async put(key: string, body: ArtifactBody): Promise<string> {
    const target = join(this.root, assertValidKey(key));
    const temp = join(this.root, TEMP_DIR, `${randomUUID()}.part`);
    await mkdir(dirname(temp), { recursive: true });
    await mkdir(dirname(target), { recursive: true });
    try {
      const source = body instanceof Uint8Array ? Readable.from([body]) : Readable.from(body);
      await pipeline(source, createWriteStream(temp, { flags: 'wx' }));
      // A rename within one file system is atomic: readers never see a partial object.
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return this.uriFor(key);
  }

  async get(uri: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(uri));
    } catch (err) {
      throw notFoundOr(err, uri);
    }
  }

  async getStream(uri: string): Promise<Readable> {
    const path = this.pathOf(uri);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new ArtifactNotFoundError(uri);
    } catch (err) {
      throw notFoundOr(err, uri);
    }
    return createReadStream(path);
  }

  async exists(uri: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(uri))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (dir !== this.root || entry.name !== TEMP_DIR) await walk(path);
        } else {
          keys.push(relative(this.root, path).split(sep).join('/'));
        }
      }
    };
    await walk(this.root);
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(uri: string): Promise<boolean> {
    const path = this.pathOf(uri);
    if (!(await this.exists(uri))) return false;
    await rm(path, { force: true });
    return true;
  }

  async close(): Promise<void> {
    // Plain files: nothing to release.
  }

  /** The file behind a URI, refusing any URI outside this store's directory. */
  private pathOf(uri: string): string {
    if (!uri.startsWith('file://')) throw new InvalidArtifactKeyError(uri, 'this store holds file:// URIs');
    const path = fileURLToPath(uri);
    const key = relative(this.root, path).split(sep).join('/');
    if (key.startsWith('..') || resolve(path) !== path) {
      throw new InvalidArtifactKeyError(uri, `outside the artifact directory ${this.root}`);
    }
    assertValidKey(key);
    return path;
  }
}

function notFoundOr(err: unknown, uri: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' ? new ArtifactNotFoundError(uri) : err;
}
