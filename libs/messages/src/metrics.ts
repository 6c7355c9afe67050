import { z } from 'zod';

export const Task = z.enum(['classification', 'regression']);
export type Task = z.infer<typeof Task>;

/** Whether a larger value of a metric is better. */
export type MetricDirection = 'maximize' | 'minimize';

/** Every metric a KPI may name, with the task it applies to, its direction and its range. */
export const METRICS = {
  accuracy: { task: 'classification', direction: 'maximize', min: 0, max: 1 },
  f1: { task: 'classification', direction: 'maximize', min: 0, max: 1 },
  precision: { task: 'classification', direction: 'maximize', min: 0, max: 1 },
  recall: { task: 'classification', direction: 'maximize', min: 0, max: 1 },
  roc_auc: { task: 'classification', direction: 'maximize', min: 0, max: 1 },
  rmse: { task: 'regression', direction: 'minimize', min: 0, max: Number.MAX_VALUE },
  mae: { task: 'regression', direction: 'minimize', min: 0, max: Number.MAX_VALUE },
  r2: { task: 'regression', direction: 'maximize', min: -Number.MAX_VALUE, max: 1 },
} as const satisfies Record<
  string,
  { task: Task; direction: MetricDirection; min: number; max: number }
>;

export const MetricName = z.enum(
  Object.keys(METRICS) as [keyof typeof METRICS, ...(keyof typeof METRICS)[]],
);
export type MetricName = z.infer<typeof MetricName>;

/** A finite number: NaN and infinities cannot be stored in MongoDB/FerretDB documents. */
export const Finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

/**
 * Evaluation results of one split. A confusion matrix is stored flat (row-major, `size` × `size`)
 * because documents may not hold arrays directly inside arrays.
 */
export const Metrics = z.object({
  loss: Finite.optional(),
  accuracy: Finite.optional(),
  f1: Finite.optional(),
  precision: Finite.optional(),
  recall: Finite.optional(),
  roc_auc: Finite.optional(),
  rmse: Finite.optional(),
  mae: Finite.optional(),
  r2: Finite.optional(),
  confusionMatrix: z
    .object({ size: z.int().positive(), values: z.array(z.int().nonnegative()) })
    .refine((m) => m.values.length === m.size * m.size, {
      message: 'values must hold size × size counts',
    })
    .optional(),
});
export type Metrics = z.infer<typeof Metrics>;

/** True when `value` meets `target` in the metric's direction. */
export function meetsTarget(metric: MetricName, value: number, target: number): boolean {
  return METRICS[metric].direction === 'maximize' ? value >= target : value <= target;
}

/** True when `a` is strictly better than `b` for the metric. */
export function isBetter(metric: MetricName, a: number, b: number): boolean {
  return METRICS[metric].direction === 'maximize' ? a > b : a < b;
}
