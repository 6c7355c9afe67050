import { PIPELINE_CHANGEABLE, SCHEDULE_CHANGEABLE, changedFields, type ScheduleChanges } from './changes.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PipelineError } from '@apo/messages';
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

/** Where the SQLite store keeps its data. */
export type SqliteStoreOptions =
  | {
      /** A database file (its directory must exist), or `':memory:'` for a private database. */
      filename: string;
    }
  | {
      /** A data directory, created if missing; the database is `<dataDir>/store.sqlite`. */
      dataDir: string;
    };

// Long enough for another process's write transaction (each is one statement) to finish.
const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA_VERSION = 1;

// Every record field has its own column: scalars as they are, nested values as JSON text. Columns
// that are queried, sorted or unique are NOT NULL and indexed. `seq` (the rowid, which VACUUM
// keeps) orders records that share a timestamp by insertion. JSON columns are TEXT, not "JSON":
// that name would give them NUMERIC affinity.
const SCHEMA = `
CREATE TABLE pipelines (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  step TEXT,
  iteration INTEGER,
  kpi TEXT,
  budget TEXT,
  dataset TEXT,
  profile TEXT,
  task TEXT,
  strategy TEXT,
  seed INTEGER,
  split TEXT,
  parallelism INTEGER,
  request_id TEXT,
  schedule TEXT,
  best TEXT,
  outcome TEXT,
  reason TEXT,
  error TEXT,
  consecutive_failures INTEGER,
  llm_tokens INTEGER,
  state TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT,
  version INTEGER NOT NULL
);
CREATE UNIQUE INDEX pipelines_request_id ON pipelines (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX pipelines_status_created ON pipelines (status, created_at);
CREATE INDEX pipelines_created ON pipelines (created_at);

CREATE TABLE configurations (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  pipeline_id TEXT NOT NULL,
  iteration INTEGER,
  dataset_key TEXT NOT NULL,
  layer_count INTEGER NOT NULL,
  configuration TEXT,
  hash TEXT NOT NULL,
  source TEXT,
  rationale TEXT,
  llm TEXT,
  note TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (dataset_key, hash)
);
CREATE INDEX configurations_dataset_layers ON configurations (dataset_key, layer_count, created_at);
CREATE INDEX configurations_pipeline ON configurations (pipeline_id, created_at);

CREATE TABLE results (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  pipeline_id TEXT NOT NULL,
  iteration INTEGER,
  configuration_id TEXT NOT NULL UNIQUE,
  dataset_key TEXT NOT NULL,
  layer_count INTEGER,
  status TEXT,
  validation TEXT,
  test TEXT,
  training_ms INTEGER,
  epochs_run INTEGER,
  model_uri TEXT,
  error TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX results_pipeline ON results (pipeline_id, created_at);
CREATE INDEX results_dataset ON results (dataset_key, created_at);

CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  timezone TEXT,
  start TEXT,
  enabled INTEGER NOT NULL,
  next_run_at TEXT,
  last_tick_at TEXT,
  last_tick_ms INTEGER,
  locked_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE processed_messages (
  consumer TEXT NOT NULL,
  message_id TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (consumer, message_id)
) WITHOUT ROWID;
CREATE INDEX processed_messages_expiry ON processed_messages (expires_at);
`;

type Row = Record<string, unknown>;
type Kind = 'scalar' | 'boolean' | 'json';

function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Maps the fields of one record type to the columns of its table, and back. */
class Table<T extends object> {
  private readonly columns: ReadonlyArray<{ field: string; column: string; kind: Kind }>;

  constructor(fields: { [K in keyof T]-?: Kind }) {
    this.columns = Object.entries<Kind>(fields).map(([field, kind]) => ({
      field,
      column: snakeCase(field),
      kind,
    }));
  }

  column(field: string): string | undefined {
    return this.columns.find((c) => c.field === field)?.column;
  }

  /** Named parameters (by column) for the given fields of `record`; all fields by default. */
  params(record: Partial<T>, fields?: readonly string[]): Row {
    const values = record as Row;
    const params: Row = {};
    for (const { field, column, kind } of this.columns) {
      if (fields && !fields.includes(field)) continue;
      const value = values[field] ?? null;
      params[column] =
        value === null ? null : kind === 'json' ? JSON.stringify(value) : kind === 'boolean' ? (value ? 1 : 0) : value;
    }
    return params;
  }

  /** The record in `row`, whose columns may carry a prefix (for joins). */
  record(row: Row, prefix = ''): T {
    const record: Row = {};
    for (const { field, column, kind } of this.columns) {
      const value = row[prefix + column] ?? null;
      record[field] =
        value === null ? null : kind === 'json' ? JSON.parse(value as string) : kind === 'boolean' ? value === 1 : value;
    }
    return record as T;
  }

  /** `alias.column AS prefixcolumn, ...`, to select two tables in one join. */
  selectList(alias: string, prefix: string): string {
    return this.columns.map(({ column }) => `${alias}.${column} AS ${prefix}${column}`).join(', ');
  }

  insertSql(table: string): string {
    const names = this.columns.map((c) => c.column);
    return `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`;
  }
}

const pipelines = new Table<PipelineRecord>({
  id: 'scalar',
  status: 'scalar',
  step: 'scalar',
  iteration: 'scalar',
  kpi: 'json',
  budget: 'json',
  dataset: 'json',
  profile: 'json',
  task: 'scalar',
  strategy: 'scalar',
  seed: 'scalar',
  split: 'json',
  parallelism: 'scalar',
  requestId: 'scalar',
  schedule: 'scalar',
  best: 'json',
  outcome: 'scalar',
  reason: 'scalar',
  error: 'json',
  consecutiveFailures: 'scalar',
  llmTokens: 'scalar',
  state: 'json',
  createdAt: 'scalar',
  updatedAt: 'scalar',
  finishedAt: 'scalar',
  version: 'scalar',
});

const configurations = new Table<ConfigurationRecord>({
  id: 'scalar',
  pipelineId: 'scalar',
  iteration: 'scalar',
  datasetKey: 'scalar',
  layerCount: 'scalar',
  configuration: 'json',
  hash: 'scalar',
  source: 'scalar',
  rationale: 'scalar',
  llm: 'json',
  note: 'scalar',
  createdAt: 'scalar',
});

const results = new Table<ResultRecord>({
  id: 'scalar',
  pipelineId: 'scalar',
  iteration: 'scalar',
  configurationId: 'scalar',
  datasetKey: 'scalar',
  layerCount: 'scalar',
  status: 'scalar',
  validation: 'json',
  test: 'json',
  trainingMs: 'scalar',
  epochsRun: 'scalar',
  modelUri: 'scalar',
  error: 'json',
  createdAt: 'scalar',
});

const schedules = new Table<ScheduleRecord>({
  name: 'scalar',
  cron: 'scalar',
  timezone: 'scalar',
  start: 'json',
  enabled: 'boolean',
  nextRunAt: 'scalar',
  lastTickAt: 'scalar',
  lockedBy: 'scalar',
  createdAt: 'scalar',
  updatedAt: 'scalar',
});

function isUniqueViolation(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

/** The fields of `changes` to write: those an update may change that are not `undefined`. */

function epochMs(collection: string, path: string, time: string | Date): number {
  const ms = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (!Number.isFinite(ms)) throw new InvalidRecordError(collection, path, 'is not a valid time');
  return ms;
}

/**
 * The store in one SQLite file (or in memory). Several processes may share the file: every write
 * is a single statement whose condition SQLite checks under its write lock, so uniqueness,
 * optimistic concurrency and tick claims hold across them.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating if needed) the store's database. */
  static open(options: SqliteStoreOptions): SqliteStore {
    let filename: string;
    if ('dataDir' in options) {
      mkdirSync(options.dataDir, { recursive: true });
      filename = join(options.dataDir, 'store.sqlite');
    } else {
      filename = options.filename;
    }
    const db = new Database(filename, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // WAL lets readers (in this and other processes) go on while one writes. Synchronous stays
      // FULL: a claimed tick or a processed message that a power loss forgot would run twice.
      db.pragma('journal_mode = WAL');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db);
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a query; `params` is one object of named parameters or the positional ones. */
  private row(sql: string, ...params: unknown[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  private rows(sql: string, ...params: unknown[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  async createPipeline(pipeline: NewPipeline): Promise<PipelineRecord> {
    assertStorableDocument('pipelines', pipeline);
    const now = new Date().toISOString();
    const record: PipelineRecord = { ...pipeline, createdAt: now, updatedAt: now, version: 1 };
    try {
      const row = this.row(`${pipelines.insertSql('pipelines')} RETURNING *`, pipelines.params(record));
      return pipelines.record(row as Row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (this.row('SELECT 1 FROM pipelines WHERE id = ?', pipeline.id)) {
        throw new DuplicateRecordError('pipelines', pipeline.id);
      }
      throw new DuplicateRecordError('pipelines', `requestId ${String(pipeline.requestId)}`);
    }
  }

  async getPipeline(id: string): Promise<PipelineRecord | null> {
    const row = this.row('SELECT * FROM pipelines WHERE id = ?', id);
    return row ? pipelines.record(row) : null;
  }

  async findPipelineByRequestId(requestId: string): Promise<PipelineRecord | null> {
    const row = this.row('SELECT * FROM pipelines WHERE request_id = ?', requestId);
    return row ? pipelines.record(row) : null;
  }

  async updatePipeline(id: string, expectedVersion: number, changes: PipelineChanges): Promise<PipelineRecord> {
    assertStorableDocument('pipelines', changes);
    const fields = Object.keys(changedFields(changes, PIPELINE_CHANGEABLE));
    const assignments = fields.map((field) => `${pipelines.column(field)} = @${pipelines.column(field)}`);
    const sql =
      `UPDATE pipelines SET ${[...assignments, 'version = version + 1', 'updated_at = @now_'].join(', ')} ` +
      'WHERE id = @id_ AND version = @expected_version_ RETURNING *';
    let row: Row | undefined;
    try {
      row = this.row(sql, {
        ...pipelines.params(changes, fields),
        now_: new Date().toISOString(),
        id_: id,
        expected_version_: expectedVersion,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateRecordError('pipelines', `requestId ${String(changes.requestId)}`);
      throw err;
    }
    if (row) return pipelines.record(row);
    if (this.row('SELECT 1 FROM pipelines WHERE id = ?', id)) {
      throw new ConcurrencyConflictError('pipelines', id, expectedVersion);
    }
    throw new RecordNotFoundError('pipelines', id);
  }

  async listPipelines(filter: { status?: PipelineStatus; limit?: number } = {}): Promise<PipelineRecord[]> {
    const where = filter.status === undefined ? '' : 'WHERE status = @status';
    // LIMIT -1 is SQLite's "no limit".
    const sql = `SELECT * FROM pipelines ${where} ORDER BY created_at DESC, seq DESC LIMIT @limit`;
    const params: Row = { limit: filter.limit ?? -1 };
    if (filter.status !== undefined) params['status'] = filter.status;
    return this.rows(sql, params).map((row) => pipelines.record(row));
  }

  async saveConfiguration(configuration: ConfigurationRecord): Promise<Saved<ConfigurationRecord>> {
    assertStorableDocument('configurations', configuration);
    try {
      const row = this.row(
        `${configurations.insertSql('configurations')} RETURNING *`,
        configurations.params(configuration),
      );
      return { inserted: true, record: configurations.record(row as Row) };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Configurations are never deleted, so the row that made the insert fail is still there.
      const existing = await this.getConfiguration(configuration.id);
      if (existing) return { inserted: false, record: existing };
      throw new DuplicateRecordError('configurations', `hash ${configuration.hash} on dataset ${configuration.datasetKey}`);
    }
  }

  async getConfiguration(id: string): Promise<ConfigurationRecord | null> {
    const row = this.row('SELECT * FROM configurations WHERE id = ?', id);
    return row ? configurations.record(row) : null;
  }

  async findConfigurationByHash(datasetKey: string, hash: string): Promise<ConfigurationRecord | null> {
    const row = this.row('SELECT * FROM configurations WHERE dataset_key = ? AND hash = ?', datasetKey, hash);
    return row ? configurations.record(row) : null;
  }

  async listConfigurations(filter: { pipelineId?: string; datasetKey?: string }): Promise<ConfigurationRecord[]> {
    const { sql, params } = byPipelineOrDataset('configurations', filter);
    return this.rows(sql, params).map((row) => configurations.record(row));
  }

  async saveResult(result: ResultRecord): Promise<Saved<ResultRecord>> {
    assertStorableDocument('results', result);
    try {
      const row = this.row(`${results.insertSql('results')} RETURNING *`, results.params(result));
      return { inserted: true, record: results.record(row as Row) };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const first = this.row('SELECT * FROM results WHERE configuration_id = ?', result.configurationId);
      if (first) return { inserted: false, record: results.record(first) };
      throw new DuplicateRecordError('results', result.id);
    }
  }

  async getResultOf(configurationId: string): Promise<ResultRecord | null> {
    const row = this.row('SELECT * FROM results WHERE configuration_id = ?', configurationId);
    return row ? results.record(row) : null;
  }

  async listResults(filter: { pipelineId?: string; datasetKey?: string }): Promise<ResultRecord[]> {
    const { sql, params } = byPipelineOrDataset('results', filter);
    return this.rows(sql, params).map((row) => results.record(row));
  }

  async historyByLayerCount(datasetKey: string): Promise<LayerCountGroup[]> {
    // One statement, so configurations and results come from one consistent snapshot.
    const sql =
      `SELECT ${configurations.selectList('c', 'c_')}, ${results.selectList('r', 'r_')} ` +
      'FROM configurations c LEFT JOIN results r ON r.configuration_id = c.id ' +
      'WHERE c.dataset_key = ? ORDER BY c.layer_count, c.created_at, c.seq';
    const groups: LayerCountGroup[] = [];
    for (const row of this.rows(sql, datasetKey)) {
      const configuration = configurations.record(row, 'c_');
      const result = row['r_id'] === null ? null : results.record(row, 'r_');
      let group = groups.at(-1);
      if (!group || group.layerCount !== configuration.layerCount) {
        group = { layerCount: configuration.layerCount, entries: [] };
        groups.push(group);
      }
      group.entries.push({ configuration, result });
    }
    return groups;
  }

  async putSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    assertStorableDocument('schedules', schedule);
    const sql =
      'INSERT INTO schedules (name, cron, timezone, start, enabled, next_run_at, created_at, updated_at) ' +
      'VALUES (@name, @cron, @timezone, @start, @enabled, @next_run_at, @now_, @now_) ' +
      'ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, ' +
      'start = excluded.start, enabled = excluded.enabled, next_run_at = excluded.next_run_at, ' +
      'updated_at = excluded.updated_at RETURNING *';
    const fields = ['name', ...SCHEDULE_CHANGEABLE];
    const row = this.row(sql, { ...schedules.params(schedule, fields), now_: new Date().toISOString() });
    return schedules.record(row as Row);
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const row = this.row('SELECT * FROM schedules WHERE name = ?', name);
    return row ? schedules.record(row) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.rows('SELECT * FROM schedules ORDER BY name').map((row) => schedules.record(row));
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.statement('DELETE FROM schedules WHERE name = ?').run(name).changes > 0;
  }

  async updateSchedule(name: string, changes: ScheduleChanges): Promise<ScheduleRecord> {
    assertStorableDocument('schedules', changes);
    const fields = Object.keys(changedFields(changes, SCHEDULE_CHANGEABLE));
    const assignments = fields.map((field) => `${schedules.column(field)} = @${schedules.column(field)}`);
    const sql = `UPDATE schedules SET ${[...assignments, 'updated_at = @now_'].join(', ')} WHERE name = @name_ RETURNING *`;
    const row = this.row(sql, { ...schedules.params(changes, fields), now_: new Date().toISOString(), name_: name });
    if (!row) throw new RecordNotFoundError('schedules', name);
    return schedules.record(row);
  }

  async claimScheduleTick(name: string, tickAt: string, owner: string, nextRunAt: string | null): Promise<boolean> {
    // Ticks are compared as epoch milliseconds, not as text: one instant has several ISO spellings.
    const tickMs = epochMs('schedules', 'tickAt', tickAt);
    const sql =
      'UPDATE schedules SET last_tick_at = @tick_at, last_tick_ms = @tick_ms, locked_by = @owner, ' +
      'next_run_at = @next_run_at, updated_at = @now ' +
      'WHERE name = @name AND (last_tick_ms IS NULL OR last_tick_ms < @tick_ms)';
    const { changes } = this.statement(sql).run({
      tick_at: tickAt,
      tick_ms: tickMs,
      owner,
      next_run_at: nextRunAt,
      now: new Date().toISOString(),
      name,
    });
    return changes === 1;
  }

  async markProcessed(consumer: string, messageId: string, expiresAt: Date): Promise<boolean> {
    const expiresMs = epochMs('processed_messages', 'expiresAt', expiresAt);
    // An expired record that was not purged yet counts as forgotten: the upsert renews it.
    const sql =
      'INSERT INTO processed_messages (consumer, message_id, processed_at, expires_at) ' +
      'VALUES (@consumer, @message_id, @now, @expires_at) ' +
      'ON CONFLICT (consumer, message_id) DO UPDATE SET processed_at = excluded.processed_at, ' +
      'expires_at = excluded.expires_at WHERE processed_messages.expires_at < excluded.processed_at';
    const { changes } = this.statement(sql).run({
      consumer,
      message_id: messageId,
      now: Date.now(),
      expires_at: expiresMs,
    });
    return changes === 1;
  }

  async isProcessed(consumer: string, messageId: string): Promise<boolean> {
    const sql = 'SELECT 1 FROM processed_messages WHERE consumer = ? AND message_id = ? AND expires_at >= ?';
    return this.row(sql, consumer, messageId, Date.now()) !== undefined;
  }

  async purgeProcessed(now: Date): Promise<number> {
    const nowMs = epochMs('processed_messages', 'now', now);
    return this.statement('DELETE FROM processed_messages WHERE expires_at < ?').run(nowMs).changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function byPipelineOrDataset(
  table: 'configurations' | 'results',
  filter: { pipelineId?: string; datasetKey?: string },
): { sql: string; params: Row } {
  const conditions: string[] = [];
  const params: Row = {};
  if (filter.pipelineId !== undefined) {
    conditions.push('pipeline_id = @pipeline_id');
    params['pipeline_id'] = filter.pipelineId;
  }
  if (filter.datasetKey !== undefined) {
    conditions.push('dataset_key = @dataset_key');
    params['dataset_key'] = filter.datasetKey;
  }
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return { sql: `SELECT * FROM ${table} ${where} ORDER BY created_at, seq`, params };
}

/** Creates the schema in a new file; refuses a file written by a newer version of this store. */
function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock first, so two processes opening a new file at once do not both
  // create the tables: the second waits (busy timeout), then sees the version the first set.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new PipelineError(
        `store database has schema version ${version}; this version of the store knows up to ${SCHEMA_VERSION}`,
        'UNSUPPORTED_SCHEMA',
        false,
        { details: { version, supported: SCHEMA_VERSION } },
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
