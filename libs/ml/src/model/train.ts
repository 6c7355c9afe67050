import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@apo/messages';
import type { ModelConfiguration } from '@apo/model-config';
import type { PreparedFeatures } from '../types.ts';
import { fusedAdamEnabled } from './backend.ts';
import type { TargetEncoding } from './batches.ts';
import { lossFor } from './build.ts';
import {
  LOSSES,
  trainEpoch,
  trainingStep,
  validationChunks,
  validationLoss,
  type Chunk,
  type TrainingStep,
} from './epoch.ts';
import { TrainingDivergedError } from './errors/training-diverged-error.ts';
import { disposeOptimizer } from './optimizer.ts';
import { seededRandom } from '../random.ts';
import { fitTargetScaling, foldTargetScaling, type TargetScaling } from './target-scaling.ts';

/** One finished epoch (numbered from 1). */
export interface EpochLog {
  epoch: number;
  /** Mean training loss over the epoch's batches, L2 penalties included. */
  loss: number;
  /** Validation loss after the epoch (the training loss when there is no validation split). */
  valLoss: number;
}

/** What `onEpoch` receives after every epoch. */
export interface EpochEvent extends EpochLog {
  bestEpoch: number;
  bestValLoss: number;
  elapsedMs: number;
}

/** Options of `trainModel`. */
export interface TrainOptions {
  /** Seeds shuffling and dropout: the same seed on the same backend gives the same losses. */
  seed: number;
  onEpoch?: (event: EpochEvent) => void;
  /** Stops training before the next batch; `trainModel` then throws `TrainingAbortedError`. */
  signal?: AbortSignal;
}

/**
 * How a training went. For regression the losses are on the standardised target (see
 * `targetScaling`); the model itself predicts in the target's own units.
 */
export interface TrainingReport {
  /** The TensorFlow.js backend that trained. */
  backend: string;
  epochsRun: number;
  /** The epoch whose weights the model now holds (lowest validation loss). */
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
  trainingMs: number;
  /** Training rows × epochs run, per second of training (validation included in the time). */
  samplesPerSecond: number;
  history: EpochLog[];
  /** Regression only: the standardisation the model was trained under and then folded into it. */
  targetScaling?: TargetScaling;
}

/**
 * Trains a model built by `buildModel` on prepared features: the configured optimizer and
 * learning rate, batches shuffled with a seeded generator every epoch, early stopping on the
 * validation loss after `patience` epochs without improvement, and the best epoch's weights
 * restored at the end. A regression target is standardised for training and the scaling folded
 * into the output layer afterwards, so predictions come out in the target's units.
 * Throws `TrainingDivergedError` when a loss becomes NaN or infinite and
 * `TrainingAbortedError` when `signal` fires. Leaves no tensors behind but the model's own.
 */
export async function trainModel(
  model: tf.LayersModel,
  config: ModelConfiguration,
  features: PreparedFeatures,
  options: TrainOptions,
): Promise<TrainingReport> {
  assertTrainable(model, features);
  const started = performance.now();
  const scaling = features.task === 'regression' ? fitTargetScaling(features.train.y) : undefined;
  const encoding = encodingFor(features, scaling);
  const fusedAdam = await fusedAdamEnabled();
  const random = seededRandom(options.seed);
  const history: EpochLog[] = [];
  let step: TrainingStep | undefined;
  let validation: Chunk[] = [];
  let best: tf.Tensor[] | undefined;
  let bestEpoch = 0;
  let bestValLoss = Infinity;
  let stoppedEarly = false;
  try {
    step = trainingStep(model, config, LOSSES[lossFor(features)], fusedAdam);
    if (features.validation.rows > 0) {
      validation = validationChunks(features.validation, features.featureCount, encoding);
    }
    for (let epoch = 1; epoch <= config.maxEpochs; epoch++) {
      const loss = await trainEpoch(step, features, config.batchSize, encoding, random, epoch, options.signal);
      const valLoss = validation.length > 0 ? validationLoss(model, step.loss, validation) : loss;
      history.push({ epoch, loss, valLoss });
      if (!Number.isFinite(loss) || !Number.isFinite(valLoss)) {
        throw new TrainingDivergedError(
          `training diverged at epoch ${epoch}: loss ${loss}, validation loss ${valLoss}`,
          // NaN is not JSON and the details travel inside STAGE_FAILED, hence strings.
          { epoch, loss: String(loss), valLoss: String(valLoss) },
        );
      }
      if (valLoss < bestValLoss) {
        bestValLoss = valLoss;
        bestEpoch = epoch;
        tf.dispose(best);
        best = model.getWeights().map((w) => w.clone());
      }
      options.onEpoch?.({ epoch, loss, valLoss, bestEpoch, bestValLoss, elapsedMs: performance.now() - started });
      if (epoch - bestEpoch >= config.patience) {
        stoppedEarly = epoch < config.maxEpochs;
        break;
      }
    }
    if (best !== undefined) model.setWeights(best);
    if (scaling !== undefined) foldTargetScaling(model, scaling);
  } finally {
    tf.dispose(best);
    for (const chunk of validation) tf.dispose([chunk.x, chunk.y]);
    if (step !== undefined) disposeOptimizer(step.optimizer);
  }
  const trainingMs = performance.now() - started;
  return {
    backend: tf.getBackend(),
    epochsRun: history.length,
    bestEpoch,
    bestValLoss,
    stoppedEarly,
    trainingMs,
    samplesPerSecond: (features.train.rows * history.length) / (trainingMs / 1000),
    history,
    ...(scaling ? { targetScaling: scaling } : {}),
  };
}

function encodingFor(features: PreparedFeatures, scaling: TargetScaling | undefined): TargetEncoding {
  if (scaling !== undefined) return { kind: 'scaled', scaling };
  return features.classCount === 2 ? { kind: 'binary' } : { kind: 'one-hot', classCount: features.classCount };
}

function assertTrainable(model: tf.LayersModel, features: PreparedFeatures): void {
  const width = model.inputs[0]?.shape[1];
  if (width !== features.featureCount) {
    throw new InvalidInputError(`the model takes ${width} features, the data has ${features.featureCount}`);
  }
  if (features.train.rows < 1) throw new InvalidInputError('the training split is empty');
}
