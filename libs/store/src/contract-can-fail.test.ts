// The contract suite is only worth something if it catches a store that breaks the port. Each
// broken store below wraps a correct SqliteStore and breaks one promise the way a real adapter
// plausibly could; the checks of that promise must then fail with an assertion (not crash), while
// the same wrapper left unbroken passes the whole suite.
import { describe, expect, it } from 'vitest';
import { ConcurrencyConflictError } from './errors/concurrency-conflict-error.ts';
import { DuplicateRecordError } from './errors/duplicate-record-error.ts';
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
import { SqliteStore } from './sqlite.ts';
import type { Saved, Store } from './store.ts';
import { storeContractCases, storeContractSuite, type StoreContractCaseName } from './testing.ts';

/** Forwards every call to a correct store; subclasses break one method. */
class DelegatingStore implements Store {
  constructor(protected readonly inner: Store) {}

  createPipeline(pipeline: NewPipeline): Promise<PipelineRecord> {
    return this.inner.createPipeline(pipeline);
  }
  getPipeline(id: string): Promise<PipelineRecord | null> {
    return this.inner.getPipeline(id);
  }
  findPipelineByRequestId(requestId: string): Promise<PipelineRecord | null> {
    return this.inner.findPipelineByRequestId(requestId);
  }
  updatePipeline(id: string, expectedVersion: number, changes: PipelineChanges): Promise<PipelineRecord> {
    return this.inner.updatePipeline(id, expectedVersion, changes);
  }
  listPipelines(filter?: { status?: PipelineStatus; limit?: number }): Promise<PipelineRecord[]> {
    return this.inner.listPipelines(filter);
  }
  saveConfiguration(configuration: ConfigurationRecord): Promise<Saved<ConfigurationRecord>> {
    return this.inner.saveConfiguration(configuration);
  }
  getConfiguration(id: string): Promise<ConfigurationRecord | null> {
    return this.inner.getConfiguration(id);
  }
  findConfigurationByHash(datasetKey: string, hash: string): Promise<ConfigurationRecord | null> {
    return this.inner.findConfigurationByHash(datasetKey, hash);
  }
  listConfigurations(filter: { pipelineId?: string; datasetKey?: string }): Promise<ConfigurationRecord[]> {
    return this.inner.listConfigurations(filter);
  }
  saveResult(result: ResultRecord): Promise<Saved<ResultRecord>> {
    return this.inner.saveResult(result);
  }
  getResultOf(configurationId: string): Promise<ResultRecord | null> {
    return this.inner.getResultOf(configurationId);
  }
  listResults(filter: { pipelineId?: string; datasetKey?: string }): Promise<ResultRecord[]> {
    return this.inner.listResults(filter);
  }
  historyByLayerCount(datasetKey: string): Promise<LayerCountGroup[]> {
    return this.inner.historyByLayerCount(datasetKey);
  }
  putSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.inner.putSchedule(schedule);
  }
  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.inner.getSchedule(name);
  }
  listSchedules(): Promise<ScheduleRecord[]> {
    return this.inner.listSchedules();
  }
  deleteSchedule(name: string): Promise<boolean> {
    return this.inner.deleteSchedule(name);
  }
  updateSchedule(
    name: string,
    changes: Partial<Pick<ScheduleRecord, 'enabled' | 'nextRunAt' | 'cron' | 'timezone' | 'start'>>,
  ): Promise<ScheduleRecord> {
    return this.inner.updateSchedule(name, changes);
  }
  claimScheduleTick(name: string, tickAt: string, owner: string, nextRunAt: string | null): Promise<boolean> {
    return this.inner.claimScheduleTick(name, tickAt, owner, nextRunAt);
  }
  markProcessed(consumer: string, messageId: string, expiresAt: Date): Promise<boolean> {
    return this.inner.markProcessed(consumer, messageId, expiresAt);
  }
  isProcessed(consumer: string, messageId: string): Promise<boolean> {
    return this.inner.isProcessed(consumer, messageId);
  }
  purgeProcessed(now: Date): Promise<number> {
    return this.inner.purgeProcessed(now);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Last writer wins: a conflicting update is retried on the fresh version instead of refused. */
class LastWriterWins extends DelegatingStore {
  override async updatePipeline(id: string, expectedVersion: number, changes: PipelineChanges) {
    try {
      return await this.inner.updatePipeline(id, expectedVersion, changes);
    } catch (err) {
      if (!(err instanceof ConcurrencyConflictError)) throw err;
      const current = await this.inner.getPipeline(id);
      return this.inner.updatePipeline(id, current?.version ?? expectedVersion, changes);
    }
  }
}

/** Lists pipelines oldest first, the limit taken from the oldest. */
class OldestFirst extends DelegatingStore {
  override async listPipelines(filter: { status?: PipelineStatus; limit?: number } = {}) {
    const all = (await this.inner.listPipelines({ ...filter, limit: undefined })).reverse();
    return filter.limit === undefined ? all : all.slice(0, filter.limit);
  }
}

/** Forgets the status filter. */
class IgnoresStatus extends DelegatingStore {
  override listPipelines(filter: { status?: PipelineStatus; limit?: number } = {}) {
    return this.inner.listPipelines({ ...filter, status: undefined });
  }
}

/** Reads back records with null fields missing (a document store that drops nulls). */
class DropsNulls extends DelegatingStore {
  override async getPipeline(id: string) {
    const pipeline = await this.inner.getPipeline(id);
    if (!pipeline) return null;
    return Object.fromEntries(Object.entries(pipeline).filter(([, v]) => v !== null)) as PipelineRecord;
  }
}

/** Unique by id only: another id with a known (dataset, hash) is stored as new. */
class UniqueByIdOnly extends DelegatingStore {
  override async saveConfiguration(configuration: ConfigurationRecord) {
    try {
      return await this.inner.saveConfiguration(configuration);
    } catch (err) {
      if (err instanceof DuplicateRecordError) return { inserted: true, record: configuration };
      throw err;
    }
  }
}

/** Lets a second result replace the first, as far as callers can tell. */
class SecondResultWins extends DelegatingStore {
  override async saveResult(result: ResultRecord) {
    const saved = await this.inner.saveResult(result);
    return saved.inserted ? saved : { inserted: true, record: result };
  }
}

/** Gives each group of the history newest first. */
class NewestFirstHistory extends DelegatingStore {
  override async historyByLayerCount(datasetKey: string) {
    const groups = await this.inner.historyByLayerCount(datasetKey);
    return groups.map((g) => ({ ...g, entries: [...g.entries].reverse() }));
  }
}

/** Leaves configurations that were never trained out of the history. */
class TriedOnlyHistory extends DelegatingStore {
  override async historyByLayerCount(datasetKey: string) {
    const groups = await this.inner.historyByLayerCount(datasetKey);
    return groups.map((g) => ({ ...g, entries: g.entries.filter((e) => e.result !== null) }));
  }
}

/** Checks the claim with `<=` instead of `<`: a tick already claimed is claimed again. */
class ReclaimsSameTick extends DelegatingStore {
  override async claimScheduleTick(name: string, tickAt: string, owner: string, nextRunAt: string | null) {
    if (await this.inner.claimScheduleTick(name, tickAt, owner, nextRunAt)) return true;
    return (await this.inner.getSchedule(name))?.lastTickAt === tickAt;
  }
}

/** Records nothing: every delivery looks like the first. */
class ForgetsProcessed extends DelegatingStore {
  override async markProcessed(consumer: string, messageId: string, expiresAt: Date) {
    await this.inner.markProcessed(consumer, messageId, expiresAt);
    return true;
  }
}

/** Purges with `<=`: also deletes records that expire exactly at `now`. */
class PurgesOneMillisecondEarly extends DelegatingStore {
  override purgeProcessed(now: Date) {
    return this.inner.purgeProcessed(new Date(now.getTime() + 1));
  }
}

/** Stores NaN as null instead of refusing it (what JSON.stringify would do silently). */
class NanAsNull extends DelegatingStore {
  override createPipeline(pipeline: NewPipeline) {
    return this.inner.createPipeline(JSON.parse(JSON.stringify(pipeline)) as NewPipeline);
  }
}

const broken: Array<{ store: new (inner: Store) => Store; fails: StoreContractCaseName[] }> = [
  {
    store: LastWriterWins,
    fails: [
      'updatePipeline with a stale version throws ConcurrencyConflictError and changes nothing',
      'concurrent updates from one version: exactly one wins, the others conflict',
    ],
  },
  {
    store: OldestFirst,
    fails: ['listPipelines lists newest first', 'listPipelines with a limit returns the newest ones, newest first'],
  },
  { store: IgnoresStatus, fails: ['listPipelines filters by status'] },
  {
    store: DropsNulls,
    fails: [
      'createPipeline stores version 1 and returns the pipeline exactly as saved',
      'every record comes back from another store instance deep-equal to what was saved',
    ],
  },
  {
    store: UniqueByIdOnly,
    fails: [
      'saveConfiguration refuses another id with the same dataset and hash',
      'concurrent saves of one hash with different ids: exactly one wins',
    ],
  },
  {
    store: SecondResultWins,
    fails: [
      'saveResult keeps one result per configuration and returns the first',
      'concurrent results for one configuration: exactly one is stored, every caller gets it',
    ],
  },
  {
    store: NewestFirstHistory,
    fails: ['historyByLayerCount groups by layer count ascending, oldest first, with results joined'],
  },
  {
    store: TriedOnlyHistory,
    fails: ['historyByLayerCount groups by layer count ascending, oldest first, with results joined'],
  },
  {
    store: ReclaimsSameTick,
    fails: [
      'claimScheduleTick: exactly one of concurrent claims of one tick wins',
      'claimScheduleTick: a later tick can be claimed, the same or an earlier one cannot',
      'putSchedule replaces a schedule by name and keeps its claim state',
    ],
  },
  {
    store: ForgetsProcessed,
    fails: [
      'markProcessed is true the first time and false for a redelivery, per consumer',
      'concurrent markProcessed of one message: exactly one is true',
    ],
  },
  {
    store: PurgesOneMillisecondEarly,
    fails: ['purgeProcessed deletes records that expired before the time given and counts them'],
  },
  { store: NanAsNull, fails: ['a NaN metric is refused with the field path, and nothing is written'] },
];

// The wrapper itself keeps the contract: a failure below is the breakage, not the wrapping.
storeContractSuite('delegating store (control)', async () => new DelegatingStore(SqliteStore.open({ filename: ':memory:' })));

describe('the contract suite fails a broken store', () => {
  for (const { store: Broken, fails } of broken) {
    for (const name of fails) {
      it(`${Broken.name}: ${name}`, async () => {
        const store = new Broken(SqliteStore.open({ filename: ':memory:' }));
        try {
          const outcome = await storeContractCases[name]({ store, peer: store, concurrency: 8 }).then(
            () => null,
            (err: unknown) => err,
          );
          expect(outcome, 'the check passed against the broken store').toBeInstanceOf(Error);
          expect((outcome as Error).name, String(outcome)).toBe('AssertionError');
        } finally {
          await store.close();
        }
      });
    }
  }
});
