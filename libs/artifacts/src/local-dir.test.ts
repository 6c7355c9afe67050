import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidArtifactKeyError } from './errors/invalid-artifact-key-error.ts';
import { LocalDirArtifactStore } from './local-dir.ts';
import { artifactContractSuite } from './testing.ts';

const newDir = () => mkdtempSync(join(tmpdir(), 'apo-artifacts-'));

artifactContractSuite('local directory', async () => new LocalDirArtifactStore({ dir: newDir() }));

describe('local directory store', () => {
  it('refuses URIs that point outside its directory', async () => {
    const outside = newDir();
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    const store = new LocalDirArtifactStore({ dir: newDir() });
    await expect(store.get(pathToFileURL(join(outside, 'secret.txt')).href)).rejects.toBeInstanceOf(
      InvalidArtifactKeyError,
    );
    await expect(store.get('gridfs://artifacts/x')).rejects.toBeInstanceOf(InvalidArtifactKeyError);
  });

  it('leaves no temporary file behind after a write', async () => {
    const dir = newDir();
    const store = new LocalDirArtifactStore({ dir });
    await store.put('a/b.bin', Buffer.from('x'));
    expect(readdirSync(join(dir, '.incoming'))).toEqual([]);
    expect(await store.list('')).toEqual(['a/b.bin']);
  });

  it('still writes after its whole directory was removed by hand', async () => {
    const dir = newDir();
    const store = new LocalDirArtifactStore({ dir });
    await store.put('a/b.bin', Buffer.from('one'));
    rmSync(dir, { recursive: true, force: true });
    const uri = await store.put('a/b.bin', Buffer.from('two'));
    expect((await store.get(uri)).toString()).toBe('two');
  });
});
