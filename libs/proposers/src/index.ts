export type { Proposal, ProposalLlmUsage, ProposalRequest, Proposer, TrialRecord } from './proposer.ts';
export {
  AnthropicProposer,
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_MAX_REPAIRS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_TOKENS,
  DEFAULT_TIMEOUT_MS,
  redactSecret,
  type AnthropicProposerOptions,
} from './anthropic.ts';
export { LlmAnswerError } from './errors/llm-answer-error.ts';
export { LlmRequestError, type LlmFailureKind } from './errors/llm-request-error.ts';
export { buildPrompt, estimateTokens, TOOL_NAME, type LlmPrompt, type PipelineAttempt, type PromptInput } from './prompt.ts';
export { llmContextOf, type LlmContext } from './llm-context.ts';
export { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
export { RandomProposer, type RandomProposerOptions } from './random.ts';
export { defaultGamma, TpeProposer, type TpeProposerOptions } from './tpe.ts';
export { STARTUP_CONFIGURATIONS } from './defaults.ts';
export {
  createSearchSpace,
  DEFAULT_SEARCH_RANGES,
  layerParameter,
  type Range,
  type SearchSpace,
  type SearchSpaceOptions,
} from './search-space.ts';
export type {
  Assignment,
  CategoricalParameter,
  NumericParameter,
  Parameter,
  ParameterValue,
} from './parameters.ts';
export { TriedConfigurations, type ObservedTrial } from './tried.ts';
