import * as tf from '@tensorflow/tfjs';

/** Standardisation of a regression target: the network learns (y - mean) / std. */
export interface TargetScaling {
  mean: number;
  std: number;
}

/**
 * Mean and standard deviation of the training targets. Targets such as 25–346 are far from the
 * unit scale the initial weights assume; learning them unscaled takes many more epochs.
 */
export function fitTargetScaling(y: Float32Array): TargetScaling {
  let sum = 0;
  for (const v of y) sum += v;
  const mean = y.length > 0 ? sum / y.length : 0;
  let squares = 0;
  for (const v of y) squares += (v - mean) ** 2;
  const std = y.length > 0 ? Math.sqrt(squares / y.length) : 0;
  return { mean, std: std > 0 ? std : 1 };
}

/**
 * Folds the scaling into the linear output layer (kernel × std, bias × std + mean), so the model
 * predicts in the target's own units and a saved model needs nothing else to be used.
 */
export function foldTargetScaling(model: tf.LayersModel, scaling: TargetScaling): void {
  const output = model.layers[model.layers.length - 1]!;
  const folded = tf.tidy(() => {
    const [kernel, bias] = output.getWeights();
    return [tf.mul(kernel!, scaling.std), tf.add(tf.mul(bias!, scaling.std), scaling.mean)];
  });
  output.setWeights(folded);
  tf.dispose(folded);
}
