import { z } from 'zod';
import { JsonObject } from './json.ts';
import { Metrics, MetricName } from './metrics.ts';
import { DatasetProfile } from './profile.ts';
import { DatasetRef, SplitSpec, Strategy } from './start.ts';
import { WireError } from './errors/wire.ts';

// Model configurations travel as JSON objects: `@apo/model-config` owns their schema and the
// stage that uses one validates it there, so this contract library depends on nothing else.

const ResolvedStrategy = Strategy.exclude(['auto']);

const KpiRef = z.object({ metric: MetricName, target: z.number() });

/**
 * LLM tokens the pipeline may still spend (`budget.maxLlmTokens` minus what it spent), when it
 * has such a budget. At 0 the llm stage asks TPE instead of the LLM. Optional and additive:
 * absent means no token budget.
 */
const LlmTokensLeft = z.int().min(0).optional();

export const GetConfiguration = z.object({
  datasetKey: z.string().min(1),
  strategy: ResolvedStrategy,
  kpi: KpiRef,
  profile: DatasetProfile,
  llmTokensLeft: LlmTokensLeft,
});
export type GetConfiguration = z.infer<typeof GetConfiguration>;

export const GenerateNewLlmConfiguration = z.object({
  datasetKey: z.string().min(1),
  strategy: ResolvedStrategy,
  kpi: KpiRef,
  profile: DatasetProfile,
  /** Earlier configurations grouped by layer count, as data (`@apo/model-config` summary). */
  history: JsonObject,
  /** The same summary as compact text, ready for a prompt. */
  historyText: z.string(),
  llmTokensLeft: LlmTokensLeft,
});
export type GenerateNewLlmConfiguration = z.infer<typeof GenerateNewLlmConfiguration>;

export const ConfigurationSource = z.enum([
  'llm',
  'llm-repaired',
  'tpe',
  'tpe-fallback',
  'random',
  'manual',
]);
export type ConfigurationSource = z.infer<typeof ConfigurationSource>;

/** What the LLM calls behind one proposal cost (repairs included). */
export const LlmUsage = z.object({
  model: z.string().min(1),
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
  latencyMs: z.number().min(0),
});
export type LlmUsage = z.infer<typeof LlmUsage>;

export const NewLlmConfigurationReady = z.object({
  configurationId: z.string().min(1),
  configuration: JsonObject,
  hash: z.string().min(1),
  layerCount: z.int().min(1),
  source: ConfigurationSource,
  rationale: z.string().optional(),
  /** Present when an LLM was asked; the orchestrator adds its tokens to the pipeline's. */
  llm: LlmUsage.optional(),
  /** Why the proposal is not the LLM's first answer (a repair, a fallback), when it is not. */
  note: z.string().optional(),
});
export type NewLlmConfigurationReady = z.infer<typeof NewLlmConfigurationReady>;

export const GenerateModel = z.object({
  configurationId: z.string().min(1),
  configuration: JsonObject,
  profile: DatasetProfile,
  seed: z.int().min(0),
});
export type GenerateModel = z.infer<typeof GenerateModel>;

export const ModelReady = z.object({
  configurationId: z.string().min(1),
  modelUri: z.string().min(1),
  parameterCount: z.int().nonnegative(),
});
export type ModelReady = z.infer<typeof ModelReady>;

export const PrepareFeatures = z.object({
  dataset: z.object({ uri: z.string().min(1), target: z.string().min(1).optional() }),
  datasetKey: z.string().min(1),
  task: z.enum(['classification', 'regression']),
  split: SplitSpec,
  seed: z.int().min(0),
});
export type PrepareFeatures = z.infer<typeof PrepareFeatures>;

export const FeaturesReady = z.object({
  featuresUri: z.string().min(1),
  /** Content address of the prepared features (dataset key + split + seed). */
  featuresKey: z.string().min(1),
  featureCount: z.int().positive(),
  rows: z.object({
    train: z.int().positive(),
    validation: z.int().positive(),
    test: z.int().positive(),
  }),
  reused: z.boolean(),
});
export type FeaturesReady = z.infer<typeof FeaturesReady>;

export const RunModel = z.object({
  configurationId: z.string().min(1),
  configuration: JsonObject,
  modelUri: z.string().min(1),
  featuresUri: z.string().min(1),
  kpi: KpiRef,
  seed: z.int().min(0),
});
export type RunModel = z.infer<typeof RunModel>;

export const PredictionReady = z.object({
  configurationId: z.string().min(1),
  validation: Metrics,
  test: Metrics,
  epochsRun: z.int().nonnegative(),
  trainingMs: z.number().nonnegative(),
  samplesPerSecond: z.number().nonnegative().optional(),
  /** The trained model (the build-model output is untrained). */
  trainedModelUri: z.string().min(1),
});
export type PredictionReady = z.infer<typeof PredictionReady>;

export const PipelineOutcome = z.enum(['succeeded', 'budget_exhausted', 'failed', 'cancelled']);
export type PipelineOutcome = z.infer<typeof PipelineOutcome>;

export const BestIteration = z.object({
  iteration: z.int().min(1),
  configurationId: z.string().min(1),
  configuration: JsonObject,
  validation: Metrics,
  test: Metrics,
  modelUri: z.string().min(1),
});
export type BestIteration = z.infer<typeof BestIteration>;

export const PipelineFinished = z.object({
  outcome: PipelineOutcome,
  /** Why the pipeline stopped, in words a user reads. */
  reason: z.string(),
  kpi: KpiRef,
  dataset: DatasetRef,
  best: BestIteration.nullable(),
  iterationsUsed: z.int().min(0),
  elapsedMs: z.number().nonnegative(),
  requestId: z.string().optional(),
  error: WireError.optional(),
  /** LLM tokens (input + output) the pipeline's proposals cost, when an LLM was asked. */
  llmTokens: z.int().min(0).optional(),
});
export type PipelineFinished = z.infer<typeof PipelineFinished>;

/** An operator's request to stop a running pipeline (`apo cancel`); it ends with outcome `cancelled`. */
export const CancelPipeline = z.object({
  reason: z.string().trim().min(1).max(500).default('cancelled by an operator'),
});
export type CancelPipeline = z.infer<typeof CancelPipeline>;

export const StageName = z.enum([
  'orchestrator',
  'config',
  'llm',
  'build-model',
  'prepare-features',
  'predict',
  'scheduler',
]);
export type StageName = z.infer<typeof StageName>;

export const StageFailed = z.object({
  stage: StageName,
  /** Type of the message whose handling failed. */
  failedType: z.string().min(1),
  /** Id of that message. */
  failedMessageId: z.string().min(1),
  error: WireError,
  configurationId: z.string().optional(),
});
export type StageFailed = z.infer<typeof StageFailed>;

