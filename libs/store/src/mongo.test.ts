import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { TransientError } from '@apo/messages';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConcurrencyConflictError } from './errors/concurrency-conflict-error.ts';
import { DuplicateRecordError } from './errors/duplicate-record-error.ts';
import { MongoStore } from './mongo.ts';
import { makeConfiguration, makeMetrics, makePipeline, makeResultFor, makeSchedule, storeContractSuite } from './testing.ts';

const uri = inject('MONGODB_URI');
const databases: string[] = [];
let admin: MongoClient;

/** A database of its own for each use, dropped after the file's tests. */
function freshDbName(): string {
  const name = `apo_store_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  databases.push(name);
  return name;
}

beforeAll(async () => {
  admin = await MongoClient.connect(uri);
});

afterAll(async () => {
  for (const name of databases) await admin.db(name).dropDatabase();
  await admin.close();
});

// One database for the whole suite, two stores over it per test (two replicas): every check makes
// its own ids, so they also show the store works on a database others write to.
const sharedDb = freshDbName();
storeContractSuite('mongo (FerretDB or $MONGODB_URI)', () => MongoStore.connect({ uri, dbName: sharedDb }), {
  sharedStorage: true,
});

describe('MongoStore', () => {
  it('creates the indexes of the design at connect, and connecting again changes nothing', async () => {
    const dbName = freshDbName();
    const first = await MongoStore.connect({ uri, dbName });
    const second = await MongoStore.connect({ uri, dbName });
    try {
      const db = admin.db(dbName);
      const indexes = async (collection: string) =>
        Object.fromEntries(
          (await db.collection(collection).listIndexes().toArray()).map((i) => [i['name'] as string, i]),
        );
      const configurations = await indexes('configurations');
      expect(configurations['datasetKey_hash_unique']).toMatchObject({ key: { datasetKey: 1, hash: 1 }, unique: true });
      expect(configurations['datasetKey_layerCount_createdAt']?.['key']).toStrictEqual({
        datasetKey: 1,
        layerCount: 1,
        createdAt: 1,
      });
      expect(configurations['pipelineId_iteration']?.['key']).toStrictEqual({ pipelineId: 1, iteration: 1 });

      const results = await indexes('results');
      expect(results['configurationId_unique']).toMatchObject({ key: { configurationId: 1 }, unique: true });
      expect(results['datasetKey_layerCount']?.['key']).toStrictEqual({ datasetKey: 1, layerCount: 1 });
      expect(results['datasetKey_validation_accuracy']?.['key']).toStrictEqual({
        datasetKey: 1,
        'validation.accuracy': -1,
      });
      expect(results['datasetKey_validation_rmse']?.['key']).toStrictEqual({ datasetKey: 1, 'validation.rmse': 1 });

      const pipelines = await indexes('pipelines');
      expect(pipelines['requestId_unique']).toMatchObject({ key: { requestId: 1 }, unique: true });
      expect(pipelines['status_createdAt']?.['key']).toStrictEqual({ status: 1, createdAt: -1 });

      const processed = await indexes('processed_messages');
      expect(processed['consumer_messageId_unique']).toMatchObject({ key: { consumer: 1, messageId: 1 }, unique: true });
      expect((await indexes('schedule_ticks'))['schedule_tickAt_unique']).toMatchObject({ unique: true });
      expect((await indexes('pipeline_versions'))['pipelineId_version_unique']).toMatchObject({ unique: true });

      // Both connections work on the same data.
      const pipeline = await first.createPipeline(makePipeline());
      expect(await second.getPipeline(pipeline.id)).toStrictEqual(pipeline);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps documents a person can query in mongosh: ids in _id, fields by their record names', async () => {
    const dbName = freshDbName();
    const store = await MongoStore.connect({ uri, dbName });
    try {
      const pipeline = await store.createPipeline(makePipeline());
      const configuration = makeConfiguration({ pipelineId: pipeline.id, layerCount: 3 });
      await store.saveConfiguration(configuration);
      const result = makeResultFor(configuration, {
        validation: makeMetrics({ confusionMatrix: { size: 3, values: [5, 0, 1, 0, 6, 0, 1, 0, 7] } }),
      });
      await store.saveResult(result);

      const db = admin.db(dbName);
      const found = await db
        .collection('configurations')
        .find({ datasetKey: configuration.datasetKey, layerCount: 3 })
        .toArray();
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ _id: configuration.id, pipelineId: pipeline.id, hash: configuration.hash });
      expect(found[0]).not.toHaveProperty('id');

      const stored = await db.collection('results').findOne({ configurationId: configuration.id });
      // A confusion matrix is flat: its size and the row-major counts.
      expect(stored?.['validation']?.['confusionMatrix']).toStrictEqual({ size: 3, values: [5, 0, 1, 0, 6, 0, 1, 0, 7] });
      const best = await db
        .collection('results')
        .find({ datasetKey: configuration.datasetKey })
        .sort({ 'validation.accuracy': -1 })
        .limit(1)
        .toArray();
      expect(best[0]).toMatchObject({ _id: configuration.id, id: result.id });

      // A pipeline without a request id has no requestId field (so the unique index skips it).
      const doc = await db.collection('pipelines').findOne({ _id: pipeline.id } as never);
      expect(doc).toMatchObject({ status: 'running', version: 1, iteration: 0 });
      expect(doc).not.toHaveProperty('requestId');
    } finally {
      await store.close();
    }
  });

  it('keys a result by its configuration, and still reads and guards a result stored under its own id', async () => {
    const dbName = freshDbName();
    const store = await MongoStore.connect({ uri, dbName });
    try {
      const configuration = makeConfiguration();
      const result = makeResultFor(configuration);
      await store.saveResult(result);
      const stored = await store.collection('results').findOne({ _id: configuration.id });
      expect(stored).toMatchObject({ id: result.id, configurationId: configuration.id });

      // The layout before: `_id` is the result's id and there is no `id` field.
      const older = makeConfiguration({ datasetKey: configuration.datasetKey });
      const { id, ...rest } = makeResultFor(older, { createdAt: '2000-01-01T00:00:00.000Z' });
      await store.collection('results').insertOne({ _id: id, ...rest });
      expect((await store.listResults({ datasetKey: configuration.datasetKey })).map((r) => r.id)).toStrictEqual([id, result.id]);
      const again = await store.saveResult(makeResultFor(older));
      expect(again).toMatchObject({ inserted: false, record: { id, configurationId: older.id } });
    } finally {
      await store.close();
    }
  });

  it('finishes a pipeline update whose writer died after claiming its version, instead of sticking', async () => {
    const dbName = freshDbName();
    const store = await MongoStore.connect({ uri, dbName });
    const created = await store.createPipeline(makePipeline());
    try {
      // What a writer that claimed version 2 and died before applying it leaves behind.
      const updatedAt = new Date().toISOString();
      await store.collection('pipeline_versions').insertOne({
        _id: JSON.stringify([created.id, 2]),
        pipelineId: created.id,
        version: 2,
        set: { step: 'training', iteration: 1, updatedAt, version: 2 },
        unset: {},
        claimedAt: new Date(),
      });
      await expect(store.updatePipeline(created.id, 1, { step: 'lost' })).rejects.toBeInstanceOf(ConcurrencyConflictError);
      const rolled = await store.getPipeline(created.id);
      expect(rolled).toStrictEqual({ ...created, step: 'training', iteration: 1, updatedAt, version: 2 });

      const next = await store.updatePipeline(created.id, 2, { step: 'evaluating' });
      expect(next.version).toBe(3);
    } finally {
      await store.close();
    }
    // Only the newest claim is kept (older ones are dropped in the background; close waits).
    const claims = await admin.db(dbName).collection('pipeline_versions').find({ pipelineId: created.id }).toArray();
    expect(claims.map((c) => c['version'])).toStrictEqual([3]);
  });

  it('refuses an update to a request id another pipeline has, and the version stays free', async () => {
    const store = await MongoStore.connect({ uri, dbName: sharedDb });
    try {
      const taken = `request-${randomUUID()}`;
      await store.createPipeline(makePipeline({ requestId: taken }));
      const created = await store.createPipeline(makePipeline({ requestId: `request-${randomUUID()}` }));
      const err = await store.updatePipeline(created.id, 1, { requestId: taken, step: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateRecordError);
      expect(await store.getPipeline(created.id)).toStrictEqual(created);
      const cleared = await store.updatePipeline(created.id, 1, { requestId: null });
      expect(cleared).toMatchObject({ requestId: null, version: 2 });
      expect(await store.getPipeline(created.id)).toStrictEqual(cleared);
    } finally {
      await store.close();
    }
  });

  it('keeps each record kind in its prefixed collection', async () => {
    const dbName = freshDbName();
    const store = await MongoStore.connect({ uri, dbName, collectionPrefix: 'apo_' });
    try {
      await store.putSchedule(makeSchedule({ name: 'nightly' }));
      await store.markProcessed('orchestrator', 'message-1', new Date(Date.now() + 60_000));
      const names = (await admin.db(dbName).listCollections().toArray()).map((c) => c.name).sort();
      expect(names).toContain('apo_schedules');
      expect(names).toContain('apo_processed_messages');
      expect(names.filter((n) => !n.startsWith('apo_'))).toStrictEqual([]);
      expect(await admin.db(dbName).collection('apo_schedules').countDocuments({ _id: 'nightly' } as never)).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('shares a client it was given and leaves it open on close', async () => {
    const client = new MongoClient(uri);
    await client.connect();
    try {
      const dbName = freshDbName();
      const store = await MongoStore.connect({ client, dbName });
      const pipeline = await store.createPipeline(makePipeline({ budget: { maxIterations: 3, maxConsecutiveFailures: 5, maxMinutes: undefined } }));
      // undefined counts as absent even through a client made without ignoreUndefined.
      expect(pipeline.budget).toStrictEqual({ maxIterations: 3, maxConsecutiveFailures: 5 });
      expect(await store.getPipeline(pipeline.id)).toStrictEqual(pipeline);
      await store.close();
      expect((await client.db(dbName).command({ ping: 1 }))['ok']).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('reports an unreachable server as a retryable TransientError', async () => {
    // Port 1 on loopback: nothing listens there.
    const client = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 300 });
    try {
      const err = await MongoStore.connect({ client, dbName: 'unreachable' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect((err as TransientError).retryable).toBe(true);
    } finally {
      await client.close();
    }
  });
});
