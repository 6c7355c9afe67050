import { BOUNDS } from './bounds.ts';
import { canonicalize } from './canonical.ts';
import type { HiddenLayer, ModelConfiguration, ModelConfigurationInput } from './schema.ts';

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

/** Per-layer parameters; each counts once, by the layer that differs most. */
const LAYER_PARAMETERS: readonly ((a: HiddenLayer, b: HiddenLayer) => number)[] = [
  (a, b) => numeric(a.units, b.units, BOUNDS.units),
  (a, b) => categorical(a.activation, b.activation),
  (a, b) => numeric(a.dropout, b.dropout, BOUNDS.dropout),
  (a, b) => categorical(a.batchNorm, b.batchNorm),
  (a, b) => numeric(a.l2, b.l2, BOUNDS.l2),
];

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
  if (x.hiddenLayers.length !== y.hiddenLayers.length) {
    return 0.5 + (0.5 * Math.abs(x.hiddenLayers.length - y.hiddenLayers.length)) / LAYER_COUNT_RANGE;
  }
  const layerDistances = LAYER_PARAMETERS.map((distance) =>
    Math.max(...x.hiddenLayers.map((layer, i) => distance(layer, y.hiddenLayers[i] ?? layer))),
  );
  const distances = [
    ...layerDistances,
    categorical(x.optimizer, y.optimizer),
    numeric(x.learningRate, y.learningRate, BOUNDS.learningRate),
    numeric(x.momentum, y.momentum, BOUNDS.momentum),
    numeric(x.batchSize, y.batchSize, BOUNDS.batchSize),
    numeric(x.maxEpochs, y.maxEpochs, BOUNDS.maxEpochs),
    numeric(x.patience, y.patience, BOUNDS.patience),
  ];
  return distances.reduce((sum, d) => sum + d, 0) / distances.length;
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
    const distance = canonicalDistance(x, tried[i]!);
    if (distance <= threshold && distance < closestDistance) {
      closest = i;
      closestDistance = distance;
    }
  }
  return closest;
}
