import type { ModelConfiguration } from '@apo/model-config';
import { fromInternal, internalRange, isActive, type Assignment, type Parameter, type ParameterValue } from './parameters.ts';
import { randomIndex, type Random } from './prng.ts';
import type { SearchSpace } from './search-space.ts';

/** Draws one parameter's value, knowing the parameters drawn before it. */
export type ParameterDraw = (parameter: Parameter, assignment: Assignment) => ParameterValue;

/**
 * A point of the space, drawn parameter by parameter in tree order, so a conditional
 * parameter is drawn only when its parents make it exist.
 */
export function sampleTree(space: SearchSpace, draw: ParameterDraw): Assignment {
  const assignment: Assignment = {};
  for (const parameter of space.parameters) {
    if (isActive(parameter, assignment)) assignment[parameter.name] = draw(parameter, assignment);
  }
  return assignment;
}

/** A draw from a parameter's prior: uniform in its (log-)range, or uniform over its choices. */
export function samplePrior(parameter: Parameter, random: Random): ParameterValue {
  if (parameter.kind === 'categorical') return parameter.choices[randomIndex(random, parameter.choices.length)]!;
  const { low, high } = internalRange(parameter);
  return fromInternal(parameter, low + (high - low) * random());
}

/** A point drawn from the prior of every parameter. */
export function samplePriorAssignment(space: SearchSpace, random: Random): Assignment {
  return sampleTree(space, (parameter) => samplePrior(parameter, random));
}

/** Endless configurations drawn from the prior, for a proposer to take the first new one. */
export function* priorCandidates(space: SearchSpace, random: Random): Generator<ModelConfiguration> {
  for (;;) yield space.decode(samplePriorAssignment(space, random));
}
