export type { Proposal, ProposalRequest, Proposer, TrialRecord } from './proposer.ts';
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
