import * as tf from '@tensorflow/tfjs';
import { Metrics } from '@apo/messages';
import type { ModelSpec, SplitArrays } from '../types.ts';
import { TrainingDivergedError } from './errors/training-diverged-error.ts';
import { classificationMetrics, regressionMetrics } from './metrics.ts';

// The clipping TensorFlow.js applies inside its cross-entropy losses, so `loss` here matches
// the validation loss training reported.
const EPSILON = 1e-7;
const PREDICT_BATCH = 1024;

/**
 * The model's outputs for a split, row-major: one value per row (sigmoid probability of class 1,
 * or the regression prediction), or `classCount` softmax probabilities per row.
 */
export function predictSplit(model: tf.LayersModel, split: SplitArrays, spec: ModelSpec): Float32Array {
  if (split.rows === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const x = tf.tensor2d(split.x, [split.rows, spec.featureCount]);
    const out = model.predict(x, { batchSize: PREDICT_BATCH }) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

/**
 * Evaluates a model on one split: loss (cross-entropy, or mean squared error in the target's
 * units) with accuracy, macro F1 / precision / recall, ROC AUC (binary) and the confusion matrix
 * for classification, or RMSE, MAE and R² for regression. The result satisfies the `Metrics`
 * schema; a model whose outputs are not finite throws `TrainingDivergedError`.
 */
export function evaluateModel(model: tf.LayersModel, split: SplitArrays, spec: ModelSpec): Metrics {
  const outputs = predictSplit(model, split, spec);
  if (!outputs.every(Number.isFinite)) {
    throw new TrainingDivergedError('the model predicts NaN or infinite values', { rows: split.rows });
  }
  const metrics =
    spec.task === 'regression'
      ? { loss: meanSquaredError(split.y, outputs), ...regressionMetrics(split.y, outputs) }
      : {
          loss: crossEntropy(split.y, outputs, spec.classCount),
          ...classificationMetrics(split.y, outputs, spec.classCount),
        };
  const parsed = Metrics.safeParse(metrics);
  if (!parsed.success) {
    throw new TrainingDivergedError('the model predicts values too large for finite metrics', { rows: split.rows });
  }
  return parsed.data;
}

function meanSquaredError(y: Float32Array, predicted: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (y[i]! - predicted[i]!) ** 2;
  return y.length === 0 ? 0 : sum / y.length;
}

function crossEntropy(y: Float32Array, probabilities: Float32Array, classCount: number): number {
  const clip = (p: number) => Math.min(Math.max(p, EPSILON), 1 - EPSILON);
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const label = y[i]!;
    sum -=
      classCount === 2
        ? label * Math.log(clip(probabilities[i]!)) + (1 - label) * Math.log(1 - clip(probabilities[i]!))
        : Math.log(clip(probabilities[i * classCount + label]!));
  }
  return y.length === 0 ? 0 : sum / y.length;
}
