import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
  private readonly tempDir: string;
  /** Created once; each file-system round trip costs a loop iteration time (see bench:loop). */
  private tempDirReady: Promise<unknown> | undefined;

  constructor(options: { dir: string }) {
    this.root = resolve(options.dir);
    this.tempDir = join(this.root, TEMP_DIR);
  }

  uriFor(key: string): string {
    return pathToFileURL(join(this.root, assertValidKey(key))).href;
  }

  async put(key: string, body: ArtifactBody): Promise<string> {
    const target = join(this.root, assertValidKey(key));
    const temp = join(this.tempDir, `${randomUUID()}.part`);
    await Promise.all([this.ensureTempDir(), mkdir(dirname(target), { recursive: true })]);
    try {
      try {
        await this.writeTemp(temp, body);
      } catch (err) {
        // The temporary directory was removed since it was made (a user cleaning up): once more.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.tempDirReady = undefined;
        await this.ensureTempDir();
        await this.writeTemp(temp, body);
      }
      // A rename within one file system is atomic: readers never see a partial object.
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return this.uriFor(key);
  }

  private ensureTempDir(): Promise<unknown> {
    this.tempDirReady ??= mkdir(this.tempDir, { recursive: true }).catch((err: unknown) => {
      this.tempDirReady = undefined;
      throw err;
    });
    return this.tempDirReady;
  }

  private async writeTemp(temp: string, body: ArtifactBody): Promise<void> {
    // A buffer in one call: a stream costs several more round trips for the small files most
    // artifacts are (a model's topology and weights).
    if (body instanceof Uint8Array) await writeFile(temp, body, { flag: 'wx' });
    else await pipeline(Readable.from(body), createWriteStream(temp, { flags: 'wx' }));
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
