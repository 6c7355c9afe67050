export { BOUNDS, type Activation, type OptimizerName } from './bounds.ts';
export {
  HiddenLayer,
  ModelConfiguration,
  type ModelConfigurationInput,
} from './schema.ts';
export { InvalidConfigurationError, type ConfigurationIssue } from './invalid-configuration-error.ts';
export {
  parseModelConfiguration,
  safeParseModelConfiguration,
  type ModelConfigurationParseResult,
} from './parse.ts';
export { configurationJsonSchema, type JsonSchema } from './json-schema.ts';
export { canonicalize, configurationHash, CANONICAL_SIGNIFICANT_DIGITS } from './canonical.ts';
export {
  configurationDistance,
  findNearDuplicate,
  findNearDuplicateCanonical,
  isNearDuplicate,
  NEAR_DUPLICATE_DISTANCE,
} from './distance.ts';
export { CONFIGURATION_NOTATION, formatConfiguration } from './format.ts';
export {
  DEFAULT_TOP_K,
  MAX_ERROR_LENGTH,
  summarizeHistory,
  type FailedConfiguration,
  type HistoryEntry,
  type HistorySummary,
  type LayerCountGroup,
  type RankedConfiguration,
  type SummaryOptions,
} from './summary.ts';
export { MAX_TEXT_ERROR_LENGTH, summaryText } from './summary-text.ts';
