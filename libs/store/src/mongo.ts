import { PIPELINE_CHANGEABLE, SCHEDULE_CHANGEABLE, changedFields, type ScheduleChanges } from './changes.ts';
import {
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  type Collection,
  type ObjectId,
  type Db,
  type Document,
  type Filter,
  type IndexDescription,
  type Sort,
} from 'mongodb';
import { METRICS, TransientError } from '@apo/messages';
import { assertStorableDocument } from './document-rules.ts';
import { ConcurrencyConflictError } from './errors/concurrency-conflict-error.ts';
import { DuplicateRecordError } from './errors/duplicate-record-error.ts';
import { InvalidRecordError } from './errors/invalid-record-error.ts';
import { RecordNotFoundError } from './errors/record-not-found-error.ts';
import type {
  ConfigurationRecord,
  LayerCountGroup,
  NewPipeline,
  NewSchedule,
  PipelineChanges,
  PipelineRecord,
  PipelineStatus,
  ResultRecord,
  ScheduleRecord,
} from './records.ts';
import type { Saved, Store } from './store.ts';

/** How `MongoStore.connect` reaches its database. */
export interface MongoStoreOptions {
  /** A `mongodb://` URI; the store opens (and `close` closes) its own client. */
  uri?: string;
  /** An open client to share; `close` leaves it open. Takes precedence over `uri`. */
  client?: MongoClient;
  /** Database name; default: the URI's path, else `adaptive_pipeline`. */
  dbName?: string;
  /** Prepended to every collection name (`<prefix>pipelines`, ...), e.g. to share a database. */
  collectionPrefix?: string;
}

/** The collections of the design, plus the two claim logs this adapter needs (see `MongoStore`). */
export const MONGO_COLLECTIONS = [
  'pipelines',
  'pipeline_versions',
  'configurations',
  'results',
  'schedules',
  'schedule_ticks',
  'processed_messages',
] as const;
export type MongoCollectionName = (typeof MONGO_COLLECTIONS)[number];

const DEFAULT_DB_NAME = 'adaptive_pipeline';

/** A stored document: `_id` is the record's id (a string), or the server's ObjectId where none is given. */
type StoredDocument = Document & { _id?: string | ObjectId };

// `_id` holds the record's id (a schedule's name); the other fields keep the record's names, so
// `db.configurations.find({ datasetKey, layerCount })` in mongosh reads like the records do.
// Timestamps stay ISO strings as in the records (they sort as text); where a comparison must be
// by instant (ticks, expiry) a BSON date is stored beside them.

function fieldList<T>(fields: { [K in keyof T]-?: true }): readonly string[] {
  return Object.keys(fields);
}

const PIPELINE_FIELDS = fieldList<PipelineRecord>({
  id: true,
  status: true,
  step: true,
  iteration: true,
  kpi: true,
  budget: true,
  dataset: true,
  profile: true,
  task: true,
  strategy: true,
  seed: true,
  split: true,
  parallelism: true,
  requestId: true,
  schedule: true,
  best: true,
  outcome: true,
  reason: true,
  error: true,
  consecutiveFailures: true,
  llmTokens: true,
  state: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
  version: true,
});

const CONFIGURATION_FIELDS = fieldList<ConfigurationRecord>({
  id: true,
  pipelineId: true,
  iteration: true,
  datasetKey: true,
  layerCount: true,
  configuration: true,
  hash: true,
  source: true,
  rationale: true,
  llm: true,
  note: true,
  createdAt: true,
});

const RESULT_FIELDS = fieldList<ResultRecord>({
  id: true,
  pipelineId: true,
  iteration: true,
  configurationId: true,
  datasetKey: true,
  layerCount: true,
  status: true,
  validation: true,
  test: true,
  trainingMs: true,
  epochsRun: true,
  modelUri: true,
  error: true,
  createdAt: true,
});

const SCHEDULE_FIELDS = fieldList<ScheduleRecord>({
  name: true,
  cron: true,
  timezone: true,
  start: true,
  enabled: true,
  nextRunAt: true,
  lastTickAt: true,
  lockedBy: true,
  createdAt: true,
  updatedAt: true,
});

/** A stored document as the record it holds: only the record's fields, absent ones as null. */
function toRecord<T>(fields: readonly string[], idField: string, doc: Document): T {
  const record: Record<string, unknown> = {};
  for (const field of fields) record[field] = (field === idField ? doc['_id'] : doc[field]) ?? null;
  return record as T;
}

/** A record as its document; `idField` becomes `_id`. */
function toDocument(record: object, idField: string): Document {
  const { [idField]: id, ...rest } = record as Record<string, unknown>;
  return { _id: id, ...rest };
}

/** A pipeline's document: `requestId` is left out when null, so the sparse unique index skips it. */
function pipelineDocument(record: PipelineRecord): Document {
  const doc = toDocument(record, 'id');
  if (doc['requestId'] === null) delete doc['requestId'];
  return doc;
}

/**
 * What the server gives back for a record it was given: nested properties set to `undefined` are
 * dropped (ignoreUndefined) on the way in, so the record returned drops them too. Records hold
 * JSON values only (the document rules), so a JSON round trip is exact.
 */
function asStored<T>(record: T): T {
  return JSON.parse(JSON.stringify(record)) as T;
}

const toPipeline = (doc: Document) => toRecord<PipelineRecord>(PIPELINE_FIELDS, 'id', doc);
const toConfiguration = (doc: Document) => toRecord<ConfigurationRecord>(CONFIGURATION_FIELDS, 'id', doc);
// A result's `_id` is its configuration's id (one result per configuration), so the lookup on every
// training's path is by key: FerretDB 1.24 reads the whole collection for any other filter. The
// result's own id is the `id` field. Results written before this layout have `_id` = their id and
// no `id` field: they read the same, but `getResultOf` does not find them.
const toResult = (doc: Document): ResultRecord => ({ ...toRecord<ResultRecord>(RESULT_FIELDS, 'id', doc), id: (doc['id'] ?? doc['_id']) as string });
const resultDocument = (result: ResultRecord): Document => ({ _id: result.configurationId, ...result });
const toSchedule = (doc: Document) => toRecord<ScheduleRecord>(SCHEDULE_FIELDS, 'name', doc);

/** The fields of `changes` to write: those an update may change that are not `undefined`. */

function epoch(collection: string, path: string, time: string | Date): Date {
  const ms = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (!Number.isFinite(ms)) throw new InvalidRecordError(collection, path, 'is not a valid time');
  return new Date(ms);
}

/**
 * Whether a write failed on a unique index. MongoDB says so with code 11000; FerretDB 1.24 does
 * for inserts, but an update that breaks a unique index comes back as an internal error (code 1)
 * carrying SQLite's "UNIQUE constraint failed".
 */
function isDuplicateKey(err: unknown): boolean {
  return (
    err instanceof MongoServerError &&
    (err.code === 11000 || (err.code === 1 && err.message.includes('UNIQUE constraint failed')))
  );
}

/** A driver failure that trying again may cure (the server away, a failover) as `TransientError`. */
function transientOr(err: unknown): unknown {
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    (err instanceof MongoError && err.hasErrorLabel('RetryableWriteError'))
  ) {
    return new TransientError(`MongoDB store unavailable: ${err.message}`, { cause: err });
  }
  return err;
}

function dbNameFromUri(uri: string): string | undefined {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(uri)?.[1];
  return path ? decodeURIComponent(path) : undefined;
}

/** A direction to order the results by a metric, best first. */
const METRIC_INDEXES: IndexDescription[] = Object.entries(METRICS).map(([metric, { direction }]) => ({
  name: `datasetKey_validation_${metric}`,
  key: { datasetKey: 1, [`validation.${metric}`]: direction === 'maximize' ? -1 : 1 },
}));

/**
 * The indexes of each collection, created at connect (creating an existing index is a no-op on
 * MongoDB and FerretDB alike).
 *
 * Differences of FerretDB 1.24 that shape them: no partial indexes, and `sparse` is accepted but
 * ignored — yet there a unique index skips documents that lack the field, as a sparse one does
 * on MongoDB; so a pipeline without a request id leaves the field out (not null) and the index is
 * declared sparse for MongoDB. No TTL indexes (`expireAfterSeconds` is "not implemented"):
 * processed-message records expire on read and `purgeProcessed` deletes them, which also keeps its
 * count honest (a TTL monitor would delete some before it counted).
 */
/**
 * The `_id` of a processed-message record. Every stage looks one up for each message, so it must
 * be found by `_id` alone: FerretDB 1.24's SQLite backend uses the key only for a filter on `_id`
 * and nothing else, and reads the whole collection (which grows with every message) for any
 * other filter: 13 ms a lookup after a few hundred messages, against 1.5 ms by key.
 */
const processedKey = (consumer: string, messageId: string) => JSON.stringify([consumer, messageId]);

/** The `_id` of a pipeline's claim of a version (see `MongoStore`), for the same reason. */
const claimKey = (pipelineId: string, version: number) => JSON.stringify([pipelineId, version]);

const INDEXES: Record<MongoCollectionName, IndexDescription[]> = {
  pipelines: [
    { name: 'requestId_unique', key: { requestId: 1 }, unique: true, sparse: true },
    { name: 'status_createdAt', key: { status: 1, createdAt: -1 } },
    { name: 'createdAt', key: { createdAt: -1 } },
  ],
  pipeline_versions: [{ name: 'pipelineId_version_unique', key: { pipelineId: 1, version: 1 }, unique: true }],
  configurations: [
    { name: 'datasetKey_hash_unique', key: { datasetKey: 1, hash: 1 }, unique: true },
    { name: 'datasetKey_layerCount_createdAt', key: { datasetKey: 1, layerCount: 1, createdAt: 1 } },
    { name: 'pipelineId_iteration', key: { pipelineId: 1, iteration: 1 } },
  ],
  results: [
    { name: 'configurationId_unique', key: { configurationId: 1 }, unique: true },
    // Sparse: results written before `_id` became the configuration's id have no `id` field.
    { name: 'id_unique', key: { id: 1 }, unique: true, sparse: true },
    { name: 'pipelineId_iteration', key: { pipelineId: 1, iteration: 1 } },
    { name: 'datasetKey_layerCount', key: { datasetKey: 1, layerCount: 1 } },
    ...METRIC_INDEXES,
  ],
  schedules: [{ name: 'enabled_nextRunAt', key: { enabled: 1, nextRunAt: 1 } }],
  schedule_ticks: [{ name: 'schedule_tickAt_unique', key: { schedule: 1, tickAt: 1 }, unique: true }],
  processed_messages: [
    { name: 'consumer_messageId_unique', key: { consumer: 1, messageId: 1 }, unique: true },
    { name: 'expiresAt', key: { expiresAt: 1 } },
  ],
};

/**
 * Creates the indexes a collection lacks. Only the missing ones, one per command: FerretDB 1.24
 * drops the connection (a panic: slice bounds out of range) when one `createIndexes` names several
 * indexes that exist already, which is what connecting a second time would send. Two stores
 * connecting at once may both create one; creating a single existing index is a no-op on both.
 */
async function ensureIndexes(collection: Collection<StoredDocument>, indexes: IndexDescription[]): Promise<void> {
  let existing: Set<string>;
  try {
    existing = new Set((await collection.listIndexes().toArray()).map((index) => index['name'] as string));
  } catch (err) {
    // NamespaceNotFound: the collection does not exist yet.
    if (!(err instanceof MongoServerError && err.code === 26)) throw err;
    existing = new Set();
  }
  for (const index of indexes) {
    if (!existing.has(index.name!)) await collection.createIndexes([index]);
  }
}

/** A claimed pipeline version: the changes that turn version `version - 1` into `version`. */
interface PipelineVersionDoc {
  pipelineId: string;
  version: number;
  set: Document;
  unset: Document;
  claimedAt: Date;
}

/**
 * The store in MongoDB (or FerretDB 1.24, on which the tests run), with the official driver.
 * No multi-document transactions; every write is atomic on one document.
 *
 * Why claims: FerretDB 1.24 runs an update as "read the matching document, then write it back by
 * `_id`", so a conditional update (`findOneAndUpdate({ _id, version })`, "claim the tick if later")
 * is not atomic there: eight racing updates of one version all succeeded in a probe. An insert
 * checked by a unique index is atomic on both servers, so the races are decided by inserts:
 * - updating a pipeline first inserts its next version into `pipeline_versions` (unique on
 *   pipeline id + version): one caller wins each version, the others get
 *   `ConcurrencyConflictError`. The winner then applies the changes to the pipeline. If it died in
 *   between, the next caller finds the claim and applies it for it (roll forward): the claim holds
 *   the changes, so applying it twice writes the same thing. The newest claim is kept, older ones
 *   are deleted.
 * - claiming a schedule tick inserts (schedule, tick) into `schedule_ticks`.
 * - marking a message processed inserts (consumer, message id); an expired record is renewed by
 *   whoever deletes it (a delete counts what it removed on both servers).
 * On MongoDB the conditional writes are atomic as well, so each of these holds without the claims;
 * on FerretDB the claims make them hold.
 */
export class MongoStore implements Store {
  private readonly client: MongoClient;
  private readonly ownsClient: boolean;
  private readonly collections: Record<MongoCollectionName, Collection<StoredDocument>>;
  private closed = false;
  private readonly pending = new Set<Promise<void>>();

  private constructor(client: MongoClient, ownsClient: boolean, db: Db, prefix: string) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.collections = Object.fromEntries(
      MONGO_COLLECTIONS.map((name) => [name, db.collection(`${prefix}${name}`)]),
    ) as Record<MongoCollectionName, Collection<StoredDocument>>;
  }

  /** Connects, and creates the collections' indexes if they are missing. */
  static async connect(options: MongoStoreOptions): Promise<MongoStore> {
    const { client: shared, uri } = options;
    if (!shared && !uri) throw new TypeError('MongoStore.connect needs a uri or a client');
    const client = shared ?? new MongoClient(uri!, { ignoreUndefined: true });
    const dbName = options.dbName ?? (uri ? dbNameFromUri(uri) : undefined) ?? DEFAULT_DB_NAME;
    try {
      if (!shared) await client.connect();
      // ignoreUndefined on the database too, for a shared client created without it: a property
      // set to undefined is absent, as the document rules say.
      const db = client.db(dbName, { ignoreUndefined: true });
      const store = new MongoStore(client, !shared, db, options.collectionPrefix ?? '');
      for (const name of MONGO_COLLECTIONS) await ensureIndexes(store.collections[name], INDEXES[name]);
      return store;
    } catch (err) {
      if (!shared) await client.close();
      throw transientOr(err);
    }
  }

  /** The collection a record kind lives in (for tools and tests that look at the documents). */
  collection(name: MongoCollectionName): Collection<StoredDocument> {
    return this.collections[name];
  }

  /** Writes left to finish after the call that started them returned; `close` waits for them. */
  private background(write: Promise<unknown>): void {
    const settled = write.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw transientOr(err);
    }
  }

  createPipeline(pipeline: NewPipeline): Promise<PipelineRecord> {
    return this.guard(async () => {
      assertStorableDocument('pipelines', pipeline);
      const now = new Date().toISOString();
      const record: PipelineRecord = { ...pipeline, createdAt: now, updatedAt: now, version: 1 };
      try {
        await this.collections.pipelines.insertOne(pipelineDocument(record));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // FerretDB's duplicate-key error names no index, so look at which key is taken.
        if (await this.collections.pipelines.findOne({ _id: pipeline.id }, { projection: { _id: 1 } })) {
          throw new DuplicateRecordError('pipelines', pipeline.id);
        }
        throw new DuplicateRecordError('pipelines', `requestId ${String(pipeline.requestId)}`);
      }
      return toPipeline(asStored(pipelineDocument(record)));
    });
  }

  getPipeline(id: string): Promise<PipelineRecord | null> {
    return this.guard(async () => {
      const doc = await this.collections.pipelines.findOne({ _id: id });
      return doc ? toPipeline(doc) : null;
    });
  }

  findPipelineByRequestId(requestId: string): Promise<PipelineRecord | null> {
    return this.guard(async () => {
      const doc = await this.collections.pipelines.findOne({ requestId });
      return doc ? toPipeline(doc) : null;
    });
  }

  updatePipeline(id: string, expectedVersion: number, changes: PipelineChanges): Promise<PipelineRecord> {
    return this.guard(async () => {
      assertStorableDocument('pipelines', changes);
      const fields = changedFields(changes, PIPELINE_CHANGEABLE);
      const updatedAt = new Date().toISOString();
      const version = expectedVersion + 1;
      const set: Document = { ...fields, updatedAt, version };
      const unset: Document = {};
      if (set['requestId'] === null) {
        delete set['requestId'];
        unset['requestId'] = '';
      }
      const claims = this.collections.pipeline_versions;
      const _id = claimKey(id, version);
      const claim: PipelineVersionDoc = { pipelineId: id, version, set, unset, claimedAt: new Date() };
      // Claim, then apply and read back in one command, then drop the claim before: three round
      // trips, claims found by `_id` (FerretDB uses its key for nothing else).
      try {
        await claims.insertOne({ _id, ...claim });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await this.rollForward(id, version);
        if (!(await this.collections.pipelines.findOne({ _id: id }, { projection: { _id: 1 } }))) throw new RecordNotFoundError('pipelines', id);
        throw new ConcurrencyConflictError('pipelines', id, expectedVersion);
      }
      let doc: Document | null;
      try {
        doc = await this.applyClaim(claim);
      } catch (err) {
        // The new request id belongs to another pipeline: give the version back.
        await claims.deleteOne({ _id });
        if (isDuplicateKey(err)) throw new DuplicateRecordError('pipelines', `requestId ${String(changes.requestId)}`);
        throw err;
      }
      if (!doc) {
        // Not applied here. Either a loser rolled this claim forward first (the pipeline is at
        // `version`: done), or the pipeline was not at `expectedVersion` (claims are kept only
        // until the next update, so a caller far behind can claim a version anew): give it back.
        doc = await this.collections.pipelines.findOne({ _id: id });
        if (doc?.['version'] !== version) {
          await claims.deleteOne({ _id });
          if (!doc) throw new RecordNotFoundError('pipelines', id);
          throw new ConcurrencyConflictError('pipelines', id, expectedVersion);
        }
      }
      // The claim before was applied: this caller read the pipeline at its version. Dropped in
      // the background, off the caller's path (the orchestrator updates on every reply): until it
      // is gone it only turns away a caller as far behind as that version, which the version
      // filter of the apply does anyway. One left by a writer that died, or a failed delete, is
      // harmless.
      this.background(claims.deleteOne({ _id: claimKey(id, expectedVersion) }));
      return toPipeline(doc as StoredDocument);
    });
  }

  /** Applies a claimed version to the pipeline if it is still at the version before; the pipeline as applied, or null. */
  private async applyClaim(claim: PipelineVersionDoc): Promise<Document | null> {
    const update: Document = { $set: claim.set };
    if (Object.keys(claim.unset).length > 0) update['$unset'] = claim.unset;
    return this.collections.pipelines.findOneAndUpdate({ _id: claim.pipelineId, version: claim.version - 1 }, update, { returnDocument: 'after' });
  }

  /** Finishes the update of a caller that claimed `version` and may have died before applying it. */
  private async rollForward(id: string, version: number): Promise<void> {
    const claim = await this.collections.pipeline_versions.findOne({ _id: claimKey(id, version) });
    if (!claim) return;
    try {
      await this.applyClaim(claim as unknown as PipelineVersionDoc);
    } catch (err) {
      // The claimer hit a taken request id and is withdrawing the claim.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  listPipelines(filter: { status?: PipelineStatus; limit?: number } = {}): Promise<PipelineRecord[]> {
    return this.guard(async () => {
      // The driver's limit(0) means "no limit" and a negative one "one batch of that many";
      // the port's limit 0 means none (as SQLite's LIMIT 0), and a negative one no limit.
      if (filter.limit === 0) return [];
      const query: Filter<StoredDocument> = filter.status === undefined ? {} : { status: filter.status };
      let cursor = this.collections.pipelines.find(query).sort({ createdAt: -1, _id: -1 });
      if (filter.limit !== undefined && filter.limit > 0) cursor = cursor.limit(filter.limit);
      return (await cursor.toArray()).map(toPipeline);
    });
  }

  saveConfiguration(configuration: ConfigurationRecord): Promise<Saved<ConfigurationRecord>> {
    return this.guard(async () => {
      assertStorableDocument('configurations', configuration);
      try {
        await this.collections.configurations.insertOne(toDocument(configuration, 'id'));
        return { inserted: true, record: toConfiguration(asStored(toDocument(configuration, 'id'))) };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Configurations are never deleted, so the document that made the insert fail is there.
        const existing = await this.getConfiguration(configuration.id);
        if (existing) return { inserted: false, record: existing };
        throw new DuplicateRecordError('configurations', `hash ${configuration.hash} on dataset ${configuration.datasetKey}`);
      }
    });
  }

  getConfiguration(id: string): Promise<ConfigurationRecord | null> {
    return this.guard(async () => {
      const doc = await this.collections.configurations.findOne({ _id: id });
      return doc ? toConfiguration(doc) : null;
    });
  }

  findConfigurationByHash(datasetKey: string, hash: string): Promise<ConfigurationRecord | null> {
    return this.guard(async () => {
      const doc = await this.collections.configurations.findOne({ datasetKey, hash });
      return doc ? toConfiguration(doc) : null;
    });
  }

  listConfigurations(filter: { pipelineId?: string; datasetKey?: string }): Promise<ConfigurationRecord[]> {
    return this.guard(async () => {
      const docs = await this.collections.configurations.find(byPipelineOrDataset(filter)).sort(OLDEST_FIRST).toArray();
      return docs.map(toConfiguration);
    });
  }

  saveResult(result: ResultRecord): Promise<Saved<ResultRecord>> {
    return this.guard(async () => {
      assertStorableDocument('results', result);
      try {
        await this.collections.results.insertOne(resultDocument(result));
        return { inserted: true, record: toResult(asStored(resultDocument(result))) };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Taken by this configuration's result (by key, or by the unique index for one written
        // before results were keyed by configuration), or else the id is another's.
        const first =
          (await this.collections.results.findOne({ _id: result.configurationId })) ??
          (await this.collections.results.findOne({ configurationId: result.configurationId }));
        if (first) return { inserted: false, record: toResult(first) };
        throw new DuplicateRecordError('results', result.id);
      }
    });
  }

  getResultOf(configurationId: string): Promise<ResultRecord | null> {
    return this.guard(async () => {
      const doc = await this.collections.results.findOne({ _id: configurationId });
      return doc ? toResult(doc) : null;
    });
  }

  listResults(filter: { pipelineId?: string; datasetKey?: string }): Promise<ResultRecord[]> {
    return this.guard(async () => {
      const docs = await this.collections.results.find(byPipelineOrDataset(filter)).sort({ createdAt: 1, id: 1 }).toArray();
      return docs.map(toResult);
    });
  }

  historyByLayerCount(datasetKey: string): Promise<LayerCountGroup[]> {
    return this.guard(async () => {
      // Two queries joined here: FerretDB has no $lookup. They run at once (each reads a whole
      // collection on FerretDB, and this read is on every iteration's path twice), so a result
      // saved between them may be missed: its configuration then reads as still in flight.
      const [configurationDocs, resultDocs] = await Promise.all([
        this.collections.configurations.find({ datasetKey }).sort({ layerCount: 1, createdAt: 1, _id: 1 }).toArray(),
        this.collections.results.find({ datasetKey }).toArray(),
      ]);
      const configurations = configurationDocs.map(toConfiguration);
      const results = new Map<string, ResultRecord>();
      for (const doc of resultDocs) {
        const result = toResult(doc);
        results.set(result.configurationId, result);
      }
      const groups: LayerCountGroup[] = [];
      for (const configuration of configurations) {
        let group = groups.at(-1);
        if (!group || group.layerCount !== configuration.layerCount) {
          group = { layerCount: configuration.layerCount, entries: [] };
          groups.push(group);
        }
        group.entries.push({ configuration, result: results.get(configuration.id) ?? null });
      }
      return groups;
    });
  }

  putSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.guard(async () => {
      assertStorableDocument('schedules', schedule);
      const now = new Date().toISOString();
      const set = { ...changedFields(schedule, SCHEDULE_CHANGEABLE), updatedAt: now };
      const update = {
        $set: set,
        $setOnInsert: { createdAt: now, lastTickAt: null, lastTickTime: null, lockedBy: null },
      };
      const upsert = () =>
        this.collections.schedules.findOneAndUpdate({ _id: schedule.name }, update, {
          upsert: true,
          returnDocument: 'after',
        });
      let doc: Document | null;
      try {
        doc = await upsert();
      } catch (err) {
        // Two upserts of a new name raced and the other inserted first: now it is an update.
        if (!isDuplicateKey(err)) throw err;
        doc = await upsert();
      }
      return toSchedule(doc!);
    });
  }

  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.guard(async () => {
      const doc = await this.collections.schedules.findOne({ _id: name });
      return doc ? toSchedule(doc) : null;
    });
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.guard(async () => {
      const docs = await this.collections.schedules.find({}).sort({ _id: 1 }).toArray();
      // The server orders strings by its collation rules; the port orders names as JS does.
      return docs.map(toSchedule).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  deleteSchedule(name: string): Promise<boolean> {
    return this.guard(async () => {
      const { deletedCount } = await this.collections.schedules.deleteOne({ _id: name });
      // A schedule made again under this name starts with no claimed tick.
      await this.collections.schedule_ticks.deleteMany({ schedule: name });
      return deletedCount > 0;
    });
  }

  updateSchedule(name: string, changes: ScheduleChanges): Promise<ScheduleRecord> {
    return this.guard(async () => {
      assertStorableDocument('schedules', changes);
      const set = { ...changedFields(changes, SCHEDULE_CHANGEABLE), updatedAt: new Date().toISOString() };
      const doc = await this.collections.schedules.findOneAndUpdate(
        { _id: name },
        { $set: set },
        { returnDocument: 'after' },
      );
      if (!doc) throw new RecordNotFoundError('schedules', name);
      return toSchedule(doc);
    });
  }

  claimScheduleTick(name: string, tickAt: string, owner: string, nextRunAt: string | null): Promise<boolean> {
    return this.guard(async () => {
      const tick = epoch('schedules', 'tickAt', tickAt);
      const schedules = this.collections.schedules;
      const schedule = await schedules.findOne({ _id: name });
      if (!schedule) return false;
      const last = schedule['lastTickTime'] as Date | null | undefined;
      if (last && last.getTime() >= tick.getTime()) return false;
      try {
        // The unique (schedule, tick) insert is what lets exactly one replica have the tick.
        await this.collections.schedule_ticks.insertOne({ schedule: name, tickAt: tick, owner, claimedAt: new Date() });
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
      const { matchedCount } = await schedules.updateOne(
        { _id: name, $or: [{ lastTickTime: null }, { lastTickTime: { $lt: tick } }] },
        { $set: { lastTickAt: tickAt, lastTickTime: tick, lockedBy: owner, nextRunAt, updatedAt: new Date().toISOString() } },
      );
      await this.collections.schedule_ticks.deleteMany({ schedule: name, tickAt: { $lt: tick } });
      // No match: the schedule was deleted meanwhile, or a later tick was claimed first.
      return matchedCount === 1;
    });
  }

  markProcessed(consumer: string, messageId: string, expiresAt: Date): Promise<boolean> {
    return this.guard(async () => {
      const expires = epoch('processed_messages', 'expiresAt', expiresAt);
      const processed = this.collections.processed_messages;
      const _id = processedKey(consumer, messageId);
      const mark = () => processed.insertOne({ _id, consumer, messageId, processedAt: new Date(), expiresAt: expires });
      try {
        await mark();
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // Recorded already. If that record expired, it is forgotten: the one caller whose delete
      // removes it marks the message anew (a delete counts what it removed, on FerretDB too).
      const { deletedCount } = await processed.deleteOne({ _id, expiresAt: { $lt: new Date() } });
      if (deletedCount === 0) return false;
      try {
        await mark();
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    });
  }

  isProcessed(consumer: string, messageId: string): Promise<boolean> {
    return this.guard(async () => {
      // By `_id` alone: FerretDB uses its key only when the filter has nothing else.
      const doc = await this.collections.processed_messages.findOne({ _id: processedKey(consumer, messageId) }, { projection: { expiresAt: 1 } });
      return doc !== null && (doc['expiresAt'] as Date).getTime() >= Date.now();
    });
  }

  purgeProcessed(now: Date): Promise<number> {
    return this.guard(async () => {
      const before = epoch('processed_messages', 'now', now);
      const { deletedCount } = await this.collections.processed_messages.deleteMany({ expiresAt: { $lt: before } });
      return deletedCount;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    if (this.ownsClient) await this.client.close();
  }
}

const OLDEST_FIRST: Sort = { createdAt: 1, _id: 1 };

function byPipelineOrDataset(filter: { pipelineId?: string; datasetKey?: string }): Filter<StoredDocument> {
  const query: Filter<StoredDocument> = {};
  if (filter.pipelineId !== undefined) query['pipelineId'] = filter.pipelineId;
  if (filter.datasetKey !== undefined) query['datasetKey'] = filter.datasetKey;
  return query;
}
