/** The value of one search parameter: a number, or one of a categorical parameter's choices. */
export type ParameterValue = number | string | boolean;

/**
 * A point in the search space: the value of every parameter that exists there, by name.
 * Conditional parameters that do not exist (layer 5 of a 3-layer network) are absent.
 */
export type Assignment = Record<string, ParameterValue>;

interface ParameterBase {
  /** Unique within its search space, e.g. `layer0.units`. */
  readonly name: string;
  /**
   * Whether the parameter exists, given the parameters before it; absent means always. This
   * makes the space a tree: a parameter only depends on ones listed earlier.
   */
  readonly activeWhen?: (assignment: Assignment) => boolean;
}

/** A number searched in [low, high], uniformly in its log when `log`, rounded when `integer`. */
export interface NumericParameter extends ParameterBase {
  readonly kind: 'numeric';
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly integer: boolean;
}

/** One of a fixed list of choices, unordered. */
export interface CategoricalParameter extends ParameterBase {
  readonly kind: 'categorical';
  readonly choices: readonly ParameterValue[];
}

/** One dimension of a search space. */
export type Parameter = NumericParameter | CategoricalParameter;

/** Whether `parameter` exists at a point whose earlier parameters are `assignment`. */
export function isActive(parameter: Parameter, assignment: Assignment): boolean {
  return parameter.activeWhen?.(assignment) ?? true;
}

/**
 * The interval a numeric parameter is modelled in: log-transformed when `log`, and for
 * integers widened by half a step at each end, so the end values get a full-width bucket
 * like every other integer (as Optuna does).
 */
export function internalRange(parameter: NumericParameter): { low: number; high: number } {
  const pad = parameter.integer ? 0.5 : 0;
  const low = parameter.low - pad;
  const high = parameter.high + pad;
  return parameter.log ? { low: Math.log(low), high: Math.log(high) } : { low, high };
}

/** A value in the modelled (log-)space, clamped into the parameter's range. */
export function toInternal(parameter: NumericParameter, value: number): number {
  const clamped = Math.min(parameter.high, Math.max(parameter.low, value));
  return parameter.log ? Math.log(clamped) : clamped;
}

/** A modelled value back in the parameter's units, rounded for integers and kept in range. */
export function fromInternal(parameter: NumericParameter, internal: number): number {
  const value = parameter.log ? Math.exp(internal) : internal;
  const rounded = parameter.integer ? Math.round(value) : value;
  return Math.min(parameter.high, Math.max(parameter.low, rounded));
}
