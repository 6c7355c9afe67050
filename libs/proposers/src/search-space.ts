import {
  BOUNDS,
  canonicalize,
  type Activation,
  type HiddenLayer,
  type ModelConfiguration,
  type OptimizerName,
} from '@apo/model-config';
import type { Assignment, CategoricalParameter, NumericParameter, Parameter, ParameterValue } from './parameters.ts';

/** An inclusive range. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** Narrows the search; every range must lie within `BOUNDS`. Omitted fields take the defaults. */
export interface SearchSpaceOptions {
  hiddenLayers?: Range;
  units?: Range;
  activations?: readonly Activation[];
  dropout?: Range;
  batchNorm?: readonly boolean[];
  /** Range of a non-zero L2 factor, searched on a log scale; `null` never regularises. */
  l2?: Range | null;
  optimizers?: readonly OptimizerName[];
  momentum?: Range;
  learningRate?: Range;
  /** The batch sizes searched are the powers of two within this range. */
  batchSize?: Range;
  maxEpochs?: Range;
  patience?: Range;
}

/**
 * Default ranges. Most are the schema's bounds; three are narrower because the bound exists to
 * cap cost, not because the edge is worth trying:
 * - maxEpochs 30–300: one epoch never shows what a network can do, and early stopping ends
 *   most trainings far below 300; 500 epochs only spends budget on the rare one that does not.
 * - patience 5–30: below 5, validation noise stops training early; above 30 it rarely stops.
 *   The top of this range never exceeds the bottom of maxEpochs, so the schema's
 *   "patience ≤ maxEpochs" holds without clamping.
 * - l2 1e-6–0.1 when non-zero: the schema allows 0 and a log scale cannot reach it, so "no L2"
 *   is its own choice (see `createSearchSpace`) and below 1e-6 L2 does nothing measurable.
 */
export const DEFAULT_SEARCH_RANGES = {
  hiddenLayers: { min: BOUNDS.hiddenLayers.min, max: BOUNDS.hiddenLayers.max },
  units: { min: BOUNDS.units.min, max: BOUNDS.units.max },
  dropout: { min: BOUNDS.dropout.min, max: BOUNDS.dropout.max },
  l2: { min: 1e-6, max: BOUNDS.l2.max },
  momentum: { min: BOUNDS.momentum.min, max: BOUNDS.momentum.max },
  learningRate: { min: BOUNDS.learningRate.min, max: BOUNDS.learningRate.max },
  batchSize: { min: BOUNDS.batchSize.min, max: BOUNDS.batchSize.max },
  maxEpochs: { min: 30, max: 300 },
  patience: { min: 5, max: 30 },
} as const satisfies Record<string, Range>;

/** A search space over model configurations, and the mapping between both. */
export interface SearchSpace {
  /** Every parameter, parents before the parameters that depend on them. */
  readonly parameters: readonly Parameter[];
  /**
   * The point of a configuration: exactly the parameters that exist for it. Values outside the
   * space (a batch size that is no power of two, an epoch count above the range) are kept as
   * they are; a model of the space clamps them.
   */
  encode(configuration: ModelConfiguration): Assignment;
  /**
   * The configuration at a point, in canonical form.
   * @throws Error when a parameter that exists at the point is missing from it.
   */
  decode(assignment: Assignment): ModelConfiguration;
}

/** Name of a per-layer parameter, e.g. `layer0.units`. */
export function layerParameter(index: number, field: string): string {
  return `layer${index}.${field}`;
}

function checkRange(name: string, range: Range, bound: Range, integer: boolean): Range {
  const ok =
    Number.isFinite(range.min) &&
    Number.isFinite(range.max) &&
    range.min <= range.max &&
    range.min >= bound.min &&
    range.max <= bound.max &&
    (!integer || (Number.isInteger(range.min) && Number.isInteger(range.max)));
  if (!ok) {
    throw new RangeError(
      `${name} range ${range.min}..${range.max} must be ${integer ? 'integers ' : ''}within ${bound.min}..${bound.max}, min <= max`,
    );
  }
  return range;
}

function checkChoices<T>(name: string, choices: readonly T[], allowed: readonly T[]): readonly T[] {
  const unknown = choices.filter((choice) => !allowed.includes(choice));
  if (choices.length === 0 || unknown.length > 0 || new Set(choices).size !== choices.length) {
    throw new RangeError(`${name} must be distinct values of ${allowed.join(', ')} (got ${choices.join(', ')})`);
  }
  return choices;
}

function numeric(name: string, range: Range, log: boolean, integer: boolean, activeWhen?: NumericParameter['activeWhen']): NumericParameter {
  return { kind: 'numeric', name, low: range.min, high: range.max, log, integer, ...(activeWhen ? { activeWhen } : {}) };
}

function categorical(
  name: string,
  choices: readonly ParameterValue[],
  activeWhen?: CategoricalParameter['activeWhen'],
): CategoricalParameter {
  return { kind: 'categorical', name, choices, ...(activeWhen ? { activeWhen } : {}) };
}

function read(assignment: Assignment, name: string): ParameterValue {
  const value = assignment[name];
  if (value === undefined) throw new Error(`search space: parameter ${name} is missing`);
  return value;
}

function readNumber(assignment: Assignment, name: string): number {
  const value = read(assignment, name);
  if (typeof value !== 'number') throw new Error(`search space: parameter ${name} is not a number`);
  return value;
}

/**
 * The conditional search space over `ModelConfiguration`, from `BOUNDS` and `options`:
 * - `hiddenLayers`: integer 1..8, ordered (3 layers is closer to 4 than to 8);
 * - per layer i, existing only when `hiddenLayers > i`: `units` (integer, log scale),
 *   `activation`, `dropout` (linear), `batchNorm`, `l2Enabled` and, only when it is true,
 *   `l2` (log scale): a mixture of exactly 0 and a log-scaled factor;
 * - `optimizer`; `momentum` only for sgd, since the others ignore it;
 * - `learningRate` (log scale);
 * - `log2BatchSize`: batch sizes are powers of two. Batch size acts on a log scale, and values
 *   closer than ×1.3 count as near-duplicates anyway, so the 8 powers from 8 to 1024 lose
 *   nothing a search could tell apart, and they are the sizes people recognise and compare;
 * - `maxEpochs` and `patience` (integers, linear, as `BOUNDS` scales them).
 * @throws RangeError when an option lies outside `BOUNDS` or is empty.
 */
export function createSearchSpace(options: SearchSpaceOptions = {}): SearchSpace {
  const d = DEFAULT_SEARCH_RANGES;
  const layers = checkRange('hiddenLayers', options.hiddenLayers ?? d.hiddenLayers, BOUNDS.hiddenLayers, true);
  const units = checkRange('units', options.units ?? d.units, BOUNDS.units, true);
  const activations = checkChoices('activations', options.activations ?? BOUNDS.activations, BOUNDS.activations);
  const dropout = checkRange('dropout', options.dropout ?? d.dropout, BOUNDS.dropout, false);
  const batchNorm = checkChoices('batchNorm', options.batchNorm ?? [false, true], [false, true]);
  const l2Option = options.l2 === undefined ? d.l2 : options.l2;
  if (l2Option !== null && !(l2Option.min > 0)) {
    throw new RangeError(`l2 range is searched on a log scale and must be above 0 (got min ${l2Option.min}); l2: null never regularises`);
  }
  const l2 = l2Option === null ? null : checkRange('l2', l2Option, BOUNDS.l2, false);
  const optimizers = checkChoices('optimizers', options.optimizers ?? BOUNDS.optimizers, BOUNDS.optimizers);
  const momentum = checkRange('momentum', options.momentum ?? d.momentum, BOUNDS.momentum, false);
  const learningRate = checkRange('learningRate', options.learningRate ?? d.learningRate, BOUNDS.learningRate, false);
  const batchSize = checkRange('batchSize', options.batchSize ?? d.batchSize, BOUNDS.batchSize, true);
  const maxEpochs = checkRange('maxEpochs', options.maxEpochs ?? d.maxEpochs, BOUNDS.maxEpochs, true);
  const patience = checkRange('patience', options.patience ?? d.patience, BOUNDS.patience, true);
  const batchExponents = { min: Math.ceil(Math.log2(batchSize.min)), max: Math.floor(Math.log2(batchSize.max)) };
  if (batchExponents.min > batchExponents.max) {
    throw new RangeError(`batchSize range ${batchSize.min}..${batchSize.max} holds no power of two`);
  }

  const parameters: Parameter[] = [numeric('hiddenLayers', layers, false, true)];
  for (let i = 0; i < layers.max; i += 1) {
    const exists = (a: Assignment) => (a['hiddenLayers'] as number) > i;
    parameters.push(
      numeric(layerParameter(i, 'units'), units, true, true, exists),
      categorical(layerParameter(i, 'activation'), activations, exists),
      numeric(layerParameter(i, 'dropout'), dropout, false, false, exists),
      categorical(layerParameter(i, 'batchNorm'), batchNorm, exists),
    );
    if (l2 !== null) {
      const enabled = layerParameter(i, 'l2Enabled');
      parameters.push(
        categorical(enabled, [false, true], exists),
        numeric(layerParameter(i, 'l2'), l2, true, false, (a) => a[enabled] === true),
      );
    }
  }
  parameters.push(
    categorical('optimizer', optimizers),
    numeric('momentum', momentum, false, false, (a) => a['optimizer'] === 'sgd'),
    numeric('learningRate', learningRate, true, false),
    numeric('log2BatchSize', batchExponents, false, true),
    numeric('maxEpochs', maxEpochs, false, true),
    numeric('patience', patience, false, true),
  );

  return {
    parameters,
    encode(configuration) {
      const assignment: Assignment = { hiddenLayers: configuration.hiddenLayers.length };
      configuration.hiddenLayers.forEach((layer, i) => {
        assignment[layerParameter(i, 'units')] = layer.units;
        assignment[layerParameter(i, 'activation')] = layer.activation;
        assignment[layerParameter(i, 'dropout')] = layer.dropout;
        assignment[layerParameter(i, 'batchNorm')] = layer.batchNorm;
        if (l2 !== null) {
          assignment[layerParameter(i, 'l2Enabled')] = layer.l2 > 0;
          if (layer.l2 > 0) assignment[layerParameter(i, 'l2')] = layer.l2;
        }
      });
      assignment['optimizer'] = configuration.optimizer;
      if (configuration.optimizer === 'sgd') assignment['momentum'] = configuration.momentum;
      assignment['learningRate'] = configuration.learningRate;
      assignment['log2BatchSize'] = Math.log2(configuration.batchSize);
      assignment['maxEpochs'] = configuration.maxEpochs;
      assignment['patience'] = configuration.patience;
      return assignment;
    },
    decode(assignment) {
      const count = readNumber(assignment, 'hiddenLayers');
      const hiddenLayers: HiddenLayer[] = [];
      for (let i = 0; i < count; i += 1) {
        const regularised = l2 !== null && read(assignment, layerParameter(i, 'l2Enabled')) === true;
        hiddenLayers.push({
          units: readNumber(assignment, layerParameter(i, 'units')),
          activation: read(assignment, layerParameter(i, 'activation')) as Activation,
          dropout: readNumber(assignment, layerParameter(i, 'dropout')),
          batchNorm: read(assignment, layerParameter(i, 'batchNorm')) === true,
          l2: regularised ? readNumber(assignment, layerParameter(i, 'l2')) : 0,
        });
      }
      const optimizer = read(assignment, 'optimizer') as OptimizerName;
      const maxEpochsValue = readNumber(assignment, 'maxEpochs');
      return canonicalize({
        hiddenLayers,
        optimizer,
        learningRate: readNumber(assignment, 'learningRate'),
        momentum: optimizer === 'sgd' ? readNumber(assignment, 'momentum') : 0,
        batchSize: 2 ** Math.round(readNumber(assignment, 'log2BatchSize')),
        maxEpochs: maxEpochsValue,
        // Only a custom range can put patience above maxEpochs; the schema forbids it.
        patience: Math.min(readNumber(assignment, 'patience'), maxEpochsValue),
      });
    },
  };
}
