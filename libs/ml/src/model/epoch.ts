import * as tf from '@tensorflow/tfjs';
import type { ModelConfiguration } from '@apo/model-config';
import type { PreparedFeatures, SplitArrays } from '../types.ts';
import { gatherBatch, type BatchArrays, type TargetEncoding } from './batches.ts';
import type { LossName } from './build.ts';
import { TrainingAbortedError } from './errors/training-aborted-error.ts';
import { createOptimizer } from './optimizer.ts';
import { nonZero, permutation, type Random } from '../random.ts';

// Validation runs in chunks so that a large split does not hold every activation at once.
const VALIDATION_CHUNK = 1024;
// The loop is synchronous between batches; it yields this often so that timers, I/O and an
// abort can run.
const YIELD_EVERY_MS = 100;
// Batch losses stay on the device and are read this many at a time: a read waits for the
// device on the native backends, and a NaN still stops the epoch early.
const READ_LOSSES_EVERY = 256;

/** A tfjs-layers loss: per-row values from targets and predictions. */
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The loss function for each loss name. */
export const LOSSES: Record<LossName, LossFn> = {
  binaryCrossentropy: tf.metrics.binaryCrossentropy,
  // Sparse categorical cross-entropy is categorical cross-entropy on one-hot targets (tfjs
  // computes it that way); the batches are one-hot encoded while they are assembled instead.
  sparseCategoricalCrossentropy: tf.metrics.categoricalCrossentropy,
  meanSquaredError: tf.metrics.meanSquaredError,
};

/** The optimizer and loss of one training, applied batch by batch. */
export interface TrainingStep {
  optimizer: tf.Optimizer;
  loss: LossFn;
  /** Trains on one batch; returns the batch's loss, still on the device. */
  run(batch: BatchArrays): tf.Scalar;
  /** Dropout layers, which get a fresh seed per batch (tfjs would use Math.random). */
  dropouts: { seed?: number }[];
}

/**
 * One optimizer step per batch, as tfjs-layers' `fit` does it (forward pass in training mode,
 * mean loss plus L2 penalties, `optimizer.minimize`) without its per-batch bookkeeping, which
 * cost about a quarter of a step for small networks.
 */
export function trainingStep(
  model: tf.LayersModel,
  config: ModelConfiguration,
  loss: LossFn,
  fusedAdam: boolean,
): TrainingStep {
  const optimizer = createOptimizer(config, { fusedAdam });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const featureCount = model.inputs[0]!.shape[1]!;
  return {
    optimizer,
    loss,
    dropouts: model.layers.filter((l) => l.getClassName() === 'Dropout') as unknown as { seed?: number }[],
    run(batch) {
      const x = tf.tensor2d(batch.x, [batch.rows, featureCount]);
      const y = tf.tensor2d(batch.y, [batch.rows, batch.targetWidth]);
      try {
        return optimizer.minimize(
          () => {
            const predicted = model.apply(x, { training: true }) as tf.Tensor;
            let total = tf.mean(loss(y, predicted)) as tf.Scalar;
            for (const layer of model.layers) {
              for (const penalty of layer.calculateLosses()) total = tf.add(total, penalty);
            }
            return total;
          },
          true,
          variables,
        )!;
      } finally {
        tf.dispose([x, y]);
      }
    },
  };
}

/**
 * One epoch over the shuffled training split; returns its mean loss, or NaN as soon as a batch
 * loss is not finite.
 */
export async function trainEpoch(
  step: TrainingStep,
  features: PreparedFeatures,
  batchSize: number,
  encoding: TargetEncoding,
  random: Random,
  epoch: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  // tfjs shuffles with Math.random; a seeded permutation keeps runs reproducible.
  const rows = features.train.rows;
  const order = permutation(rows, random);
  const pending: tf.Scalar[] = [];
  const pendingRows: number[] = [];
  let sum = 0;
  // Weighted by rows, so that a short last batch counts for what it holds.
  const readPending = (): boolean => {
    const values = tf.tidy(() => tf.stack(pending).dataSync());
    tf.dispose(pending.splice(0));
    pendingRows.splice(0).forEach((n, i) => (sum += values[i]! * n));
    return values.every(Number.isFinite);
  };
  let lastYield = performance.now();
  try {
    for (let start = 0; start < rows; start += batchSize) {
      if (signal?.aborted) throw new TrainingAbortedError(epoch, signal.reason);
      const size = Math.min(batchSize, rows - start);
      for (const layer of step.dropouts) layer.seed = nonZero(random.nextUint32());
      const batch = gatherBatch(features.train, features.featureCount, order, start, size, encoding);
      pending.push(step.run(batch));
      pendingRows.push(size);
      if (pending.length === READ_LOSSES_EVERY && !readPending()) return NaN;
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    if (pending.length > 0 && !readPending()) return NaN;
    return sum / rows;
  } finally {
    tf.dispose(pending);
  }
}

/** A validation chunk, uploaded once per training. */
export interface Chunk {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  rows: number;
}

/** The validation split as tensors of up to VALIDATION_CHUNK rows. */
export function validationChunks(split: SplitArrays, featureCount: number, encoding: TargetEncoding): Chunk[] {
  const chunks: Chunk[] = [];
  for (let start = 0; start < split.rows; start += VALIDATION_CHUNK) {
    const size = Math.min(VALIDATION_CHUNK, split.rows - start);
    const batch = gatherBatch(split, featureCount, null, start, size, encoding);
    chunks.push({
      x: tf.tensor2d(batch.x, [batch.rows, featureCount]),
      y: tf.tensor2d(batch.y, [batch.rows, batch.targetWidth]),
      rows: batch.rows,
    });
  }
  return chunks;
}

/** Mean loss over the validation split, without penalties (as Keras's val_loss, minus L2). */
export function validationLoss(model: tf.LayersModel, loss: LossFn, chunks: Chunk[]): number {
  const sums = tf.tidy(() =>
    tf.stack(chunks.map((c) => tf.sum(loss(c.y, model.apply(c.x, { training: false }) as tf.Tensor)))).dataSync(),
  );
  let total = 0;
  let rows = 0;
  chunks.forEach((c, i) => {
    total += sums[i]!;
    rows += c.rows;
  });
  return total / rows;
}
