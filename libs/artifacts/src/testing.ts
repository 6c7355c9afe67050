import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArtifactStore } from './artifact-store.ts';
import { ArtifactNotFoundError } from './errors/artifact-not-found-error.ts';
import { InvalidArtifactKeyError } from './errors/invalid-artifact-key-error.ts';

async function withStore(make: () => Promise<ArtifactStore>, check: (store: ArtifactStore, prefix: string) => Promise<void>) {
  const store = await make();
  try {
    await check(store, `contract-${randomUUID().slice(0, 8)}`);
  } finally {
    await store.close();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream that yields some bytes, then fails, like a connection that drops mid-upload. */
function failingStream(): Readable {
  return Readable.from(
    (async function* () {
      yield randomBytes(64 * 1024);
      throw new Error('source failed midway');
    })(),
  );
}

type Check = (make: () => Promise<ArtifactStore>) => Promise<void>;

/** The checks every artifact store must pass, by name; `artifactContractSuite` runs them all. */
export const artifactContractCases: Record<string, Check> = {
  'returns exactly the bytes it was given, at the URI it announced': (make) =>
    withStore(make, async (store, prefix) => {
      const small = Buffer.from('{"format":"layers-model"}');
      const large = randomBytes(3 * 1024 * 1024 + 17);
      const smallUri = await store.put(`${prefix}/model.json`, small);
      const largeUri = await store.put(`${prefix}/weights.bin`, large);
      expect(smallUri).toBe(store.uriFor(`${prefix}/model.json`));
      expect((await store.get(smallUri)).equals(small)).toBe(true);
      expect((await store.get(largeUri)).equals(large)).toBe(true);
      expect((await readAll(await store.getStream(largeUri))).equals(large)).toBe(true);
    }),

  'stores a stream as one object': (make) =>
    withStore(make, async (store, prefix) => {
      const parts = [randomBytes(300_000), randomBytes(1), randomBytes(700_000)];
      const uri = await store.put(`${prefix}/features/train.bin`, Readable.from(parts));
      expect((await store.get(uri)).equals(Buffer.concat(parts))).toBe(true);
    }),

  'replaces an object written again under the same key': (make) =>
    withStore(make, async (store, prefix) => {
      const uri = await store.put(`${prefix}/a.json`, Buffer.from('first version, longer'));
      await store.put(`${prefix}/a.json`, Buffer.from('second'));
      expect((await store.get(uri)).toString()).toBe('second');
    }),

  'stores nothing when the body fails midway': (make) =>
    withStore(make, async (store, prefix) => {
      const key = `${prefix}/partial.bin`;
      await expect(store.put(key, failingStream())).rejects.toThrow(/midway/);
      expect(await store.exists(store.uriFor(key))).toBe(false);
      expect(await store.list(prefix)).toEqual([]);
    }),

  'reports a missing object as ArtifactNotFoundError': (make) =>
    withStore(make, async (store, prefix) => {
      const uri = store.uriFor(`${prefix}/missing.bin`);
      expect(await store.exists(uri)).toBe(false);
      await expect(store.get(uri)).rejects.toBeInstanceOf(ArtifactNotFoundError);
      await expect(store.getStream(uri)).rejects.toBeInstanceOf(ArtifactNotFoundError);
      expect(await store.delete(uri)).toBe(false);
    }),

  'refuses keys that could escape the store': (make) =>
    withStore(make, async (store, prefix) => {
      for (const key of ['', '../escape', `${prefix}/../../etc/passwd`, '/absolute', `${prefix}//double`, `${prefix}/sp ace`]) {
        await expect(store.put(key, Buffer.from('x')), key).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      }
    }),

  'lists keys under a prefix and deletes them': (make) =>
    withStore(make, async (store, prefix) => {
      await store.put(`${prefix}/m/model.json`, Buffer.from('{}'));
      await store.put(`${prefix}/m/weights.bin`, Buffer.from([1, 2, 3]));
      await store.put(`${prefix}/other.bin`, Buffer.from([4]));
      expect(await store.list(`${prefix}/m/`)).toEqual([`${prefix}/m/model.json`, `${prefix}/m/weights.bin`]);
      expect(await store.delete(store.uriFor(`${prefix}/m/model.json`))).toBe(true);
      expect(await store.exists(store.uriFor(`${prefix}/m/model.json`))).toBe(false);
      expect(await store.list(`${prefix}/`)).toEqual([`${prefix}/m/weights.bin`, `${prefix}/other.bin`]);
    }),
};

/** Registers every artifact contract check as a test for one adapter. */
export function artifactContractSuite(name: string, make: () => Promise<ArtifactStore>): void {
  describe(`artifact store contract: ${name}`, () => {
    for (const [title, check] of Object.entries(artifactContractCases)) {
      it(title, () => check(make), 60_000);
    }
  });
}
