import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArtifactBody } from './artifact-store.ts';
import { LocalDirArtifactStore } from './local-dir.ts';
import { artifactContractCases } from './testing.ts';

/** Keeps only the first 1 MiB of what it is given. */
class TruncatingStore extends LocalDirArtifactStore {
  override async put(key: string, body: ArtifactBody): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of body instanceof Uint8Array ? [body] : body) chunks.push(Buffer.from(chunk as Uint8Array));
    return super.put(key, Buffer.concat(chunks).subarray(0, 1024 * 1024));
  }
}

/** Writes what arrived before a failure (no temp file and rename). */
class HalfWritingStore extends LocalDirArtifactStore {
  override async put(key: string, body: ArtifactBody): Promise<string> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body instanceof Uint8Array ? [body] : Readable.from(body)) chunks.push(Buffer.from(chunk as Uint8Array));
    } catch (err) {
      await super.put(key, Buffer.concat(chunks));
      throw err;
    }
    return super.put(key, Buffer.concat(chunks));
  }
}

const dir = () => mkdtempSync(join(tmpdir(), 'apo-broken-'));

describe('the artifact contract rejects broken adapters', () => {
  it('one that truncates large objects', async () => {
    await expect(
      artifactContractCases['returns exactly the bytes it was given, at the URI it announced']!(
        async () => new TruncatingStore({ dir: dir() }),
      ),
    ).rejects.toThrow();
  });

  it('one that keeps half-written objects', async () => {
    await expect(
      artifactContractCases['stores nothing when the body fails midway']!(async () => new HalfWritingStore({ dir: dir() })),
    ).rejects.toThrow();
  });
});
