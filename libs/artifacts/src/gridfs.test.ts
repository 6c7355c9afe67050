import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArtifactNotFoundError } from './errors/artifact-not-found-error.ts';
import { InvalidArtifactKeyError } from './errors/invalid-artifact-key-error.ts';
import { GridFsArtifactStore } from './gridfs.ts';
import { artifactContractSuite } from './testing.ts';

const uri = inject('MONGODB_URI');
const dbName = `apo_artifacts_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
let admin: MongoClient;

beforeAll(async () => {
  admin = await MongoClient.connect(uri);
});

afterAll(async () => {
  await admin.db(dbName).dropDatabase();
  await admin.close();
});

artifactContractSuite('GridFS (FerretDB or $MONGODB_URI)', async () => new GridFsArtifactStore({ uri, dbName }));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('GridFS artifact store', () => {
  const open = (options: { bucketName?: string } = {}) => new GridFsArtifactStore({ uri, dbName, ...options });

  it('round-trips a 5 MB artifact (twenty GridFS chunks) byte for byte, from a buffer and from a stream', async () => {
    const store = open();
    try {
      const key = `weights-${randomUUID()}/weights.bin`;
      const bytes = randomBytes(5 * 1024 * 1024 + 3);
      const uri = await store.put(key, bytes);
      expect(uri).toBe(`gridfs://artifacts/${key}`);
      expect(sha256(await store.get(uri))).toBe(sha256(bytes));
      expect(sha256(await readAll(await store.getStream(uri)))).toBe(sha256(bytes));

      const file = await admin.db(dbName).collection('artifacts.files').findOne({ filename: key });
      expect(file?.['length']).toBe(bytes.length);
      expect(await admin.db(dbName).collection('artifacts.chunks').countDocuments({ files_id: file?.['_id'] })).toBe(
        Math.ceil(bytes.length / (255 * 1024)),
      );

      const streamed = `weights-${randomUUID()}/weights.bin`;
      const parts = Array.from({ length: 10 }, () => randomBytes(512 * 1024));
      const streamedUri = await store.put(streamed, Readable.from(parts));
      expect(sha256(await store.get(streamedUri))).toBe(sha256(Buffer.concat(parts)));
    } finally {
      await store.close();
    }
  }, 60_000);

  it('keeps one file per key when the same key is put again', async () => {
    const store = open();
    try {
      const key = `model-${randomUUID()}/model.json`;
      await store.put(key, Buffer.from('{"v":1}'));
      await store.put(key, Buffer.from('{"v":2}'));
      await Promise.all([store.put(key, Buffer.from('{"v":3}')), store.put(key, Buffer.from('{"v":4}'))]);
      expect(await admin.db(dbName).collection('artifacts.files').countDocuments({ filename: key })).toBe(1);
      expect(['{"v":3}', '{"v":4}']).toContain((await store.get(store.uriFor(key))).toString());
      expect(await store.list(key)).toStrictEqual([key]);
    } finally {
      await store.close();
    }
  });

  it('a reader sees the old object until a replacement is complete', async () => {
    const store = open();
    try {
      const key = `features-${randomUUID()}/train.bin`;
      const old = Buffer.from('old features');
      await store.put(key, old);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const replacement = randomBytes(1024 * 1024);
      const slow = Readable.from(
        (async function* () {
          yield replacement.subarray(0, 512 * 1024);
          await gate;
          yield replacement.subarray(512 * 1024);
        })(),
      );
      const putting = store.put(key, slow);
      // Half of the new object is uploaded; the old one is what a reader gets.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await store.get(store.uriFor(key))).equals(old)).toBe(true);
      release();
      await putting;
      expect((await store.get(store.uriFor(key))).equals(replacement)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('leaves no chunks behind when the body fails midway', async () => {
    const store = open();
    try {
      const key = `partial-${randomUUID()}/weights.bin`;
      const failing = Readable.from(
        (async function* () {
          yield randomBytes(600 * 1024);
          throw new Error('source failed midway');
        })(),
      );
      await expect(store.put(key, failing)).rejects.toThrow(/midway/);
      const db = admin.db(dbName);
      expect(await db.collection('artifacts.files').countDocuments({ filename: key })).toBe(0);
      // Give a chunk insert still in flight time to land, then check it was deleted as well.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ids = (await db.collection('artifacts.files').find({}, { projection: { _id: 1 } }).toArray()).map((f) => f['_id']);
      expect(await db.collection('artifacts.chunks').countDocuments({ files_id: { $nin: ids } })).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('keeps buckets apart and refuses URIs of another bucket or scheme', async () => {
    const models = open({ bucketName: 'models' });
    const other = open();
    try {
      const key = `m-${randomUUID()}/model.json`;
      const modelUri = await models.put(key, Buffer.from('{}'));
      expect(modelUri).toBe(`gridfs://models/${key}`);
      expect(await other.exists(other.uriFor(key))).toBe(false);
      await expect(other.get(modelUri)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(models.get(`file:///tmp/${key}`)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(models.get('gridfs://models/../escape')).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(models.get(models.uriFor(`m-${randomUUID()}/none.json`))).rejects.toBeInstanceOf(ArtifactNotFoundError);
    } finally {
      await models.close();
      await other.close();
    }
  });

  it('another store instance (another host) reads what one wrote', async () => {
    const writer = open();
    const reader = new GridFsArtifactStore({ client: admin, dbName });
    try {
      const key = `shared-${randomUUID()}/model.json`;
      const written = await writer.put(key, Buffer.from('{"layers":3}'));
      expect((await reader.get(written)).toString()).toBe('{"layers":3}');
      await reader.close();
      // Closing a store leaves a client it was given open.
      expect((await admin.db(dbName).command({ ping: 1 }))['ok']).toBe(1);
    } finally {
      await writer.close();
    }
  });
});
