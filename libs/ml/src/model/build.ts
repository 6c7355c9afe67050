import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@apo/messages';
import type { ModelConfiguration } from '@apo/model-config';
import type { ModelSpec } from '../types.ts';
import { deriveSeed } from '../random.ts';

type DenseArgs = Parameters<typeof tf.layers.dense>[0];
type ActivationName = NonNullable<DenseArgs['activation']>;

/** Options of `buildModel`. */
export interface BuildOptions {
  /** The same seed gives the same initial weights. */
  seed: number;
}

/** The loss the model trains on, which the task decides. */
export type LossName = 'binaryCrossentropy' | 'sparseCategoricalCrossentropy' | 'meanSquaredError';

/**
 * The loss for a task: binary cross-entropy on one sigmoid unit for two classes, sparse
 * categorical cross-entropy on a softmax (targets are class indices) for more, and mean squared
 * error for regression.
 */
export function lossFor(spec: ModelSpec): LossName {
  if (spec.task === 'regression') return 'meanSquaredError';
  return spec.classCount === 2 ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy';
}

/**
 * Builds the network a configuration describes for a dataset: per hidden layer a dense layer
 * (L2 kernel penalty when `l2` > 0), then batch normalisation when set, then dropout when > 0;
 * the output layer follows from the task (see `lossFor`). Kernels start from Glorot-uniform
 * values seeded per layer, so one seed always gives the same initial weights. The model is
 * not compiled: `trainModel` does that with the configured optimizer.
 */
export function buildModel(config: ModelConfiguration, spec: ModelSpec, options: BuildOptions): tf.LayersModel {
  assertBuildable(spec);
  const model = tf.sequential({ name: 'apo_model' });
  config.hiddenLayers.forEach((layer, i) => {
    const n = i + 1;
    model.add(
      tf.layers.dense({
        name: `hidden_${n}`,
        units: layer.units,
        activation: layer.activation as ActivationName,
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(options.seed, i) }),
        ...(layer.l2 > 0 ? { kernelRegularizer: tf.regularizers.l2({ l2: layer.l2 }) } : {}),
        ...(i === 0 ? { inputShape: [spec.featureCount] } : {}),
      }),
    );
    if (layer.batchNorm) model.add(tf.layers.batchNormalization({ name: `batch_norm_${n}` }));
    if (layer.dropout > 0) model.add(tf.layers.dropout({ name: `dropout_${n}`, rate: layer.dropout }));
  });
  const softmax = spec.task === 'classification' && spec.classCount > 2;
  model.add(
    tf.layers.dense({
      name: 'output',
      units: softmax ? spec.classCount : 1,
      activation: spec.task === 'regression' ? 'linear' : softmax ? 'softmax' : 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({
        seed: deriveSeed(options.seed, config.hiddenLayers.length),
      }),
    }),
  );
  return model;
}

/** Number of weights in the model, trainable or not (batch-norm statistics count). */
export function parameterCount(model: tf.LayersModel): number {
  return model.countParams();
}

function assertBuildable(spec: ModelSpec): void {
  if (!Number.isInteger(spec.featureCount) || spec.featureCount < 1) {
    throw new InvalidInputError(`a model needs at least one input feature, got ${spec.featureCount}`);
  }
  if (spec.task === 'classification' && !(Number.isInteger(spec.classCount) && spec.classCount >= 2)) {
    throw new InvalidInputError(`classification needs at least two classes, got ${spec.classCount}`);
  }
}
