import type { Task } from '@apo/messages';

/** One split as a dense row-major matrix `x` (rows × featureCount) and targets `y` (rows). */
export interface SplitArrays {
  x: Float32Array;
  /** Class index (0 … classCount-1) for classification; the raw target value for regression. */
  y: Float32Array;
  rows: number;
}

/** What the model needs to know about its data: input width and output kind. */
export interface ModelSpec {
  featureCount: number;
  task: Task;
  /** Number of classes; 0 for regression. Two classes → one sigmoid unit, more → softmax. */
  classCount: number;
}

/**
 * Features ready to train on: the three splits encoded and normalised with statistics fitted on
 * the training split only, plus the fitted preprocessing (JSON) that turns raw rows into `x`.
 */
export interface PreparedFeatures extends ModelSpec {
  /** Class labels in label-encoding order (empty for regression). */
  classes: string[];
  train: SplitArrays;
  validation: SplitArrays;
  test: SplitArrays;
  /** JSON-serialisable fitted preprocessing (owned by the features module). */
  preprocessing: Record<string, unknown>;
}
