import type {
  Budget,
  ConfigurationSource,
  DatasetProfile,
  DatasetRef,
  JsonObject,
  Kpi,
  Metrics,
  PipelineOutcome,
  SplitSpec,
  Strategy,
  Task,
  WireError,
} from '@apo/messages';

// Every record keeps to what MongoDB 7 and FerretDB 1.24 both store: no arrays directly inside
// arrays, no keys with "." or a leading "$", no NaN or infinities. Timestamps are ISO strings.

export type PipelineStatus = 'running' | 'finished';

/** The best iteration so far of a pipeline. */
export interface BestSoFar {
  iteration: number;
  configurationId: string;
  validation: Metrics;
  test: Metrics;
  modelUri: string;
}

/** A pipeline, as the orchestrator persists it after every transition. */
export interface PipelineRecord {
  id: string;
  status: PipelineStatus;
  /** The step the pipeline is in (`profiling`, `configuring`, `training`, `finished`, ...). */
  step: string;
  iteration: number;
  kpi: Kpi;
  budget: Budget;
  dataset: DatasetRef;
  profile: DatasetProfile | null;
  task: Task | null;
  strategy: Strategy;
  seed: number;
  split: SplitSpec;
  parallelism: number;
  requestId: string | null;
  schedule: string | null;
  best: BestSoFar | null;
  outcome: PipelineOutcome | null;
  reason: string | null;
  error: WireError | null;
  consecutiveFailures: number;
  llmTokens: number;
  /** Orchestration details owned by the orchestrator (pending replies, timers). */
  state: JsonObject;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** Incremented by every update; an update names the version it read (optimistic concurrency). */
  version: number;
}

/** What `createPipeline` takes: everything but the fields the store maintains. */
export type NewPipeline = Omit<PipelineRecord, 'createdAt' | 'updatedAt' | 'version'>;

/** Fields an update may change. */
export type PipelineChanges = Partial<Omit<PipelineRecord, 'id' | 'createdAt' | 'updatedAt' | 'version'>>;

/** LLM usage behind one proposal. */
export interface LlmUsage {
  model: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
}

/** A proposed configuration. Unique by id, and by (datasetKey, hash): nothing is tried twice. */
export interface ConfigurationRecord {
  id: string;
  pipelineId: string;
  iteration: number;
  datasetKey: string;
  layerCount: number;
  /** The model configuration (schema owned by `@apo/model-config`). */
  configuration: JsonObject;
  hash: string;
  source: ConfigurationSource;
  rationale: string | null;
  llm: LlmUsage | null;
  /** Why a fallback happened, when one did (for example the LLM's invalid answer). */
  note: string | null;
  createdAt: string;
}

export type ResultStatus = 'succeeded' | 'failed';

/** The outcome of training one configuration. One per configuration. */
export interface ResultRecord {
  id: string;
  pipelineId: string;
  iteration: number;
  configurationId: string;
  datasetKey: string;
  layerCount: number;
  status: ResultStatus;
  validation: Metrics | null;
  test: Metrics | null;
  trainingMs: number | null;
  epochsRun: number | null;
  modelUri: string | null;
  error: WireError | null;
  createdAt: string;
}

/** A cron schedule that starts a pipeline on every tick. */
export interface ScheduleRecord {
  name: string;
  cron: string;
  timezone: string | null;
  /** The start message sent on each tick (the same JSON a person would type). */
  start: JsonObject;
  enabled: boolean;
  nextRunAt: string | null;
  /** The last tick a replica claimed (ISO time of the tick, not of the claim). */
  lastTickAt: string | null;
  lockedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export type NewSchedule = Omit<ScheduleRecord, 'createdAt' | 'updatedAt' | 'lastTickAt' | 'lockedBy'>;

/** One configuration with its result (null while not trained yet), as the config stage reads them. */
export interface HistoryEntry {
  configuration: ConfigurationRecord;
  result: ResultRecord | null;
}

/** Earlier configurations of a dataset sharing a layer count. */
export interface LayerCountGroup {
  layerCount: number;
  entries: HistoryEntry[];
}
