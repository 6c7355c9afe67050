export {
  BACKEND_ORDER,
  selectBackend,
  type BackendName,
  type SelectBackendOptions,
  type SelectedBackend,
} from './backend.ts';
export { buildModel, lossFor, parameterCount, type BuildOptions, type LossName } from './build.ts';
export { loadModel, saveModel } from './artifact-io.ts';
export { trainModel, type EpochEvent, type EpochLog, type TrainingReport, type TrainOptions } from './train.ts';
export type { TargetScaling } from './target-scaling.ts';
export {
  classificationMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  type RegressionMetrics,
} from './metrics.ts';
export { evaluateModel, predictSplit } from './evaluate.ts';
export { BackendUnavailableError } from './errors/backend-unavailable-error.ts';
export { TrainingAbortedError } from './errors/training-aborted-error.ts';
export { TrainingDivergedError } from './errors/training-diverged-error.ts';
