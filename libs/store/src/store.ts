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

/** Result of an idempotent insert: whether this call wrote it, and the stored record. */
export interface Saved<T> {
  inserted: boolean;
  record: T;
}

/**
 * The store port: pipelines, configurations, results, schedules and processed-message records.
 * Every adapter (SQLite, MongoDB) passes the contract suite in `@apo/store/testing`. No method
 * needs a multi-document transaction; each is atomic on one record. Every write first checks its
 * record against the document rules (`document-rules.ts`) and throws `InvalidRecordError`, writing
 * nothing, when a value could not be stored by every adapter.
 */
export interface Store {
  /**
   * Creates a pipeline with version 1. Throws `DuplicateRecordError` if the id exists, or if another
   * pipeline has the same (non-null) `requestId`.
   */
  createPipeline(pipeline: NewPipeline): Promise<PipelineRecord>;

  /** The pipeline with this id, or null. */
  getPipeline(id: string): Promise<PipelineRecord | null>;

  /** The pipeline started with this request id, or null (so a repeated start is recognised). */
  findPipelineByRequestId(requestId: string): Promise<PipelineRecord | null>;

  /**
   * Applies `changes` if the stored version is still `expectedVersion`, bumping the version. Each
   * field given replaces the stored one whole; a field set to `undefined` is left as it is.
   * Throws `ConcurrencyConflictError` if someone updated it first, `RecordNotFoundError` if absent,
   * `DuplicateRecordError` if the new `requestId` belongs to another pipeline. A conflict never
   * hides a lost update, but in a rare race (another caller finished this update for it and a
   * third updated after) it may be reported for changes that were applied: a caller retries on
   * fresh state, where it finds them.
   */
  updatePipeline(id: string, expectedVersion: number, changes: PipelineChanges): Promise<PipelineRecord>;

  /** Pipelines, newest first, optionally only those with a status. */
  listPipelines(filter?: { status?: PipelineStatus; limit?: number }): Promise<PipelineRecord[]>;

  /**
   * Saves a configuration. The same id again changes nothing (`inserted: false`). Another id with
   * the same (datasetKey, hash) throws `DuplicateRecordError`: a configuration is tried once per
   * dataset, atomically, even when two proposers race.
   */
  saveConfiguration(configuration: ConfigurationRecord): Promise<Saved<ConfigurationRecord>>;

  /** The configuration with this id, or null. */
  getConfiguration(id: string): Promise<ConfigurationRecord | null>;

  /** The configuration already tried on a dataset with this hash, or null. */
  findConfigurationByHash(datasetKey: string, hash: string): Promise<ConfigurationRecord | null>;

  /** Configurations of a pipeline or a dataset (both when both are given), oldest first. */
  listConfigurations(filter: { pipelineId?: string; datasetKey?: string }): Promise<ConfigurationRecord[]>;

  /**
   * Saves the result of a configuration. A second result for the same configuration changes
   * nothing and returns the first (`inserted: false`). A result whose id is taken by the result
   * of another configuration throws `DuplicateRecordError`.
   */
  saveResult(result: ResultRecord): Promise<Saved<ResultRecord>>;

  /** The result of a configuration, or null while it has none. */
  getResultOf(configurationId: string): Promise<ResultRecord | null>;

  /** Results of a pipeline or a dataset (both when both are given), oldest first. */
  listResults(filter: { pipelineId?: string; datasetKey?: string }): Promise<ResultRecord[]>;

  /**
   * Every configuration tried on a dataset with its result, grouped by layer count (ascending),
   * each group oldest first. What the config stage summarises for the proposer.
   */
  historyByLayerCount(datasetKey: string): Promise<LayerCountGroup[]>;

  /** Creates or replaces a schedule by name, keeping its claim state when it exists. */
  putSchedule(schedule: NewSchedule): Promise<ScheduleRecord>;

  /** The schedule with this name, or null. */
  getSchedule(name: string): Promise<ScheduleRecord | null>;

  /** All schedules, by name. */
  listSchedules(): Promise<ScheduleRecord[]>;

  /** Deletes a schedule; false if there was none. */
  deleteSchedule(name: string): Promise<boolean>;

  /** Changes fields of a schedule. Throws `RecordNotFoundError` if absent. */
  updateSchedule(
    name: string,
    changes: Partial<Pick<ScheduleRecord, 'enabled' | 'nextRunAt' | 'cron' | 'timezone' | 'start'>>,
  ): Promise<ScheduleRecord>;

  /**
   * Claims the tick at `tickAt` for `owner`: true for exactly one caller per (schedule, tick),
   * however many replicas ask; false if that tick or a later one was claimed already, or if the
   * schedule does not exist (deleted meanwhile). Ticks compare as instants, not as text. The
   * winner's claim also sets `nextRunAt`. Throws `InvalidRecordError` if `tickAt` is not a time.
   */
  claimScheduleTick(name: string, tickAt: string, owner: string, nextRunAt: string | null): Promise<boolean>;

  /**
   * Records that `consumer` processed message `messageId`. True the first time, false if it was
   * recorded already (a redelivery). The record is forgotten after `expiresAt`, even before
   * `purgeProcessed` removes it: marking it again then returns true.
   */
  markProcessed(consumer: string, messageId: string, expiresAt: Date): Promise<boolean>;

  /** Whether `consumer` has recorded `messageId` and the record has not expired. */
  isProcessed(consumer: string, messageId: string): Promise<boolean>;

  /** Deletes processed-message records that expired before `now`; returns how many. */
  purgeProcessed(now: Date): Promise<number>;

  /** Releases connections and files. */
  close(): Promise<void>;
}
