import { BOUNDS } from './bounds.ts';
import { canonicalize } from './canonical.ts';
import type { ModelConfiguration, ModelConfigurationInput } from './schema.ts';

/**
 * Largest distance at which two configurations count as the same experiment. The distance is
 * a mean over 11 parameters, so one parameter changed alone has to move by 11 × 0.005 = 5.5 %
 * of its range to leave the threshold: a learning rate within about ×1.75, units or batch
 * size within about ×1.3, dropout within 0.027, patience within 5 epochs, max epochs within
 * 27. Those are differences training noise drowns; any categorical change (activation,
 * optimizer, batch norm: 1/11 ≈ 0.09) and a doubling of units (≈ 0.013) stay well outside.
 */
export const NEAR_DUPLICATE_DISTANCE = 0.005;

type NumericBound = { readonly min: number; readonly max: number; readonly scale: 'log' | 'linear' };

function numeric(a: number, b: number, bound: NumericBound): number {
  if (bound.scale === 'log') {
    return Math.abs(Math.log(a) - Math.log(b)) / Math.log(bound.max / bound.min);
  }
  return Math.abs(a - b) / (bound.max - bound.min);
}

function categorical<T>(a: T, b: T): number {
  return a === b ? 0 : 1;
}


const LAYER_COUNT_RANGE = BOUNDS.hiddenLayers.max - BOUNDS.hiddenLayers.min;

/**
 * How different two configurations are, from 0 (the same after canonicalisation) to 1.
 *
 * Different layer counts are a different architecture: 0.5 plus up to 0.5 for how far apart
 * the counts are, so never a near-duplicate. With the same count it is the mean of 11
 * per-parameter distances in [0, 1]: log-scaled range fractions for units, learning rate and
 * batch size, linear ones for dropout, L2, momentum, max epochs and patience, 0/1 for
 * activation, batch norm and optimizer. A per-layer parameter takes its largest difference over
 * the layers, so a change in one layer of eight weighs as much as in a one-layer network.
 * @throws InvalidConfigurationError when either value is not a valid configuration.
 */
export function configurationDistance(a: ModelConfigurationInput, b: ModelConfigurationInput): number {
  return canonicalDistance(canonicalize(a), canonicalize(b));
}

function canonicalDistance(x: ModelConfiguration, y: ModelConfiguration): number {
  return boundedDistance(x, y, Infinity);
}

/**
 * Five per-layer parameters (units, activation, dropout, batch norm, L2; each counted once, by
 * the layer that differs most) and six global ones.
 */
const PARAMETER_COUNT = 11;

/**
 * The distance, or any value above `limit` as soon as the partial sum shows the distance
 * exceeds it. Duplicate checks compare every candidate with every tried configuration of the
 * same depth, and most pairs differ in a categorical parameter (1/11 on its own), so the cheap
 * categorical terms come first and the loops allocate nothing.
 */
function boundedDistance(x: ModelConfiguration, y: ModelConfiguration, limit: number): number {
  const xs = x.hiddenLayers;
  const ys = y.hiddenLayers;
  if (xs.length !== ys.length) return 0.5 + (0.5 * Math.abs(xs.length - ys.length)) / LAYER_COUNT_RANGE;
  const budget = limit * PARAMETER_COUNT;
  let sum = categorical(x.optimizer, y.optimizer);
  let activation = 0;
  let batchNorm = 0;
  for (let i = 0; i < xs.length; i += 1) {
    activation = Math.max(activation, categorical(xs[i]!.activation, ys[i]!.activation));
    batchNorm = Math.max(batchNorm, categorical(xs[i]!.batchNorm, ys[i]!.batchNorm));
  }
  sum += activation + batchNorm;
  if (sum > budget) return sum / PARAMETER_COUNT;
  sum +=
    numeric(x.learningRate, y.learningRate, BOUNDS.learningRate) +
    numeric(x.momentum, y.momentum, BOUNDS.momentum) +
    numeric(x.batchSize, y.batchSize, BOUNDS.batchSize) +
    numeric(x.maxEpochs, y.maxEpochs, BOUNDS.maxEpochs) +
    numeric(x.patience, y.patience, BOUNDS.patience);
  if (sum > budget) return sum / PARAMETER_COUNT;
  let units = 0;
  let dropout = 0;
  let l2 = 0;
  for (let i = 0; i < xs.length; i += 1) {
    units = Math.max(units, numeric(xs[i]!.units, ys[i]!.units, BOUNDS.units));
    dropout = Math.max(dropout, numeric(xs[i]!.dropout, ys[i]!.dropout, BOUNDS.dropout));
    l2 = Math.max(l2, numeric(xs[i]!.l2, ys[i]!.l2, BOUNDS.l2));
  }
  return (sum + units + dropout + l2) / PARAMETER_COUNT;
}

/**
 * Whether two configurations are the same experiment for practical purposes.
 * @throws InvalidConfigurationError when either value is not a valid configuration.
 */
export function isNearDuplicate(
  a: ModelConfigurationInput,
  b: ModelConfigurationInput,
  threshold: number = NEAR_DUPLICATE_DISTANCE,
): boolean {
  return configurationDistance(a, b) <= threshold;
}

/**
 * The tried configuration closest to `candidate`, if it is within `threshold`; else null.
 * Returns the element of `tried` itself, so a caller can find its result or hash.
 * @throws InvalidConfigurationError when any value is not a valid configuration.
 */
export function findNearDuplicate<T extends ModelConfigurationInput>(
  candidate: ModelConfigurationInput,
  tried: readonly T[],
  threshold: number = NEAR_DUPLICATE_DISTANCE,
): T | null {
  const canonical = tried.map((configuration) => canonicalize(configuration));
  const index = nearestCanonicalIndex(canonicalize(candidate), canonical, threshold);
  return index === -1 ? null : tried[index]!;
}

/**
 * `findNearDuplicate` for configurations already in canonical form (`canonicalize`), which it
 * does not check: proposers test many candidates against one history, and validating every
 * tried configuration again for each candidate was most of a proposal's time.
 */
export function findNearDuplicateCanonical(
  candidate: ModelConfiguration,
  tried: readonly ModelConfiguration[],
  threshold: number = NEAR_DUPLICATE_DISTANCE,
): ModelConfiguration | null {
  const index = nearestCanonicalIndex(candidate, tried, threshold);
  return index === -1 ? null : tried[index]!;
}

function nearestCanonicalIndex(x: ModelConfiguration, tried: readonly ModelConfiguration[], threshold: number): number {
  let closest = -1;
  let closestDistance = Infinity;
  for (let i = 0; i < tried.length; i += 1) {
    const distance = boundedDistance(x, tried[i]!, Math.min(threshold, closestDistance));
    if (distance <= threshold && distance < closestDistance) {
      closest = i;
      closestDistance = distance;
    }
  }
  return closest;
}
