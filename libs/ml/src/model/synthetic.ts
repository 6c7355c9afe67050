import type { Task } from '@apo/messages';
import type { PreparedFeatures, SplitArrays } from '../types.ts';
import { seededRandom, type Random } from '../random.ts';

/** Options of `syntheticFeatures`. */
export interface SyntheticOptions {
  task: Task;
  featureCount: number;
  /** 0 for regression. */
  classCount: number;
  rows: { train: number; validation: number; test: number };
  seed: number;
  /** Regression: the target's range (default 25–346, like the diabetes dataset). */
  targetRange?: [number, number];
  /** Scale of the inputs (default 1: standardised features). */
  inputScale?: number;
}

/**
 * Learnable synthetic features for tests and benchmarks: standard-normal inputs and targets from
 * a fixed random "teacher" (the arg-max of a linear map, with some label noise, for
 * classification; a squashed linear map plus noise for regression). Seeded.
 */
export function syntheticFeatures(options: SyntheticOptions): PreparedFeatures {
  const random = seededRandom(options.seed);
  const { featureCount } = options;
  const outputs = options.task === 'regression' ? 1 : options.classCount;
  const teacher = Float32Array.from({ length: featureCount * outputs }, () => gaussian(random));
  const make = (rows: number): SplitArrays => {
    const x = new Float32Array(rows * featureCount);
    const y = new Float32Array(rows);
    const scores = new Float64Array(outputs);
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < featureCount; f++) x[r * featureCount + f] = gaussian(random);
      scores.fill(0);
      for (let f = 0; f < featureCount; f++) {
        for (let o = 0; o < outputs; o++) scores[o]! += x[r * featureCount + f]! * teacher[f * outputs + o]!;
      }
      for (let o = 0; o < outputs; o++) scores[o]! += 0.5 * gaussian(random);
      y[r] = options.task === 'regression' ? regressionTarget(scores[0]!, featureCount, options) : argMax(scores);
    }
    const scale = options.inputScale ?? 1;
    if (scale !== 1) for (let i = 0; i < x.length; i++) x[i]! *= scale;
    return { x, y, rows };
  };
  return {
    featureCount,
    task: options.task,
    classCount: options.task === 'regression' ? 0 : options.classCount,
    classes: options.task === 'regression' ? [] : Array.from({ length: options.classCount }, (_, c) => `class_${c}`),
    train: make(options.rows.train),
    validation: make(options.rows.validation),
    test: make(options.rows.test),
    preprocessing: {},
  };
}

function regressionTarget(score: number, featureCount: number, options: SyntheticOptions): number {
  const [low, high] = options.targetRange ?? [25, 346];
  const squashed = 1 / (1 + Math.exp(-score / Math.sqrt(featureCount)));
  return low + (high - low) * squashed;
}

function argMax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function gaussian(random: Random): number {
  const u = 1 - random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}
