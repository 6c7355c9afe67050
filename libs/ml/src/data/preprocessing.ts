import { formatIssues, Task } from '@apo/messages';
import { z } from 'zod';
import { CorruptFeaturesError } from './errors/corrupt-features-error.ts';
import { MissingColumnError } from './errors/missing-column-error.ts';
import { NonNumericValueError } from './errors/non-numeric-value-error.ts';
import { normaliseCell, parseNumber } from './values.ts';

/** Tag and version of the preprocessing JSON. */
export const PREPROCESSING_FORMAT = 'apo.preprocessing/1';

const NumericStep = z.object({
  name: z.string(),
  kind: z.literal('numeric'),
  /** Train median, put in for a missing value. */
  fill: z.number(),
  /** Train mean and population standard deviation (1 when it was 0), after filling. */
  mean: z.number(),
  std: z.number().positive(),
});

const CategoricalStep = z.object({
  name: z.string(),
  kind: z.literal('categorical'),
  /** Train's most frequent category, put in for a missing value; null when train had none. */
  fill: z.string().nullable(),
  /** One output column each, in this order; a value not listed encodes as all zeros. */
  categories: z.array(z.string()),
});

/**
 * Everything needed to turn raw rows into model input, as JSON: one step per kept column in
 * table order, each emitting one column (numeric) or one per category (categorical).
 */
export const Preprocessing = z.object({
  format: z.literal(PREPROCESSING_FORMAT),
  columns: z.array(z.discriminatedUnion('kind', [NumericStep, CategoricalStep])),
  featureNames: z.array(z.string()),
  target: z.object({ name: z.string(), task: Task, classes: z.array(z.string()) }),
});
export type Preprocessing = z.infer<typeof Preprocessing>;
/** One fitted column of `Preprocessing`. */
export type PreprocessingStep = Preprocessing['columns'][number];

/** Validates a preprocessing object read back from JSON. */
export function parsePreprocessing(value: unknown): Preprocessing {
  const parsed = Preprocessing.safeParse(value);
  if (!parsed.success) throw new CorruptFeaturesError('preprocessing', formatIssues(parsed.error));
  const width = parsed.data.columns.reduce((n, s) => n + (s.kind === 'numeric' ? 1 : s.categories.length), 0);
  if (width !== parsed.data.featureNames.length) {
    throw new CorruptFeaturesError('preprocessing', `${width} encoded columns but ${parsed.data.featureNames.length} feature names`);
  }
  return parsed.data;
}

/**
 * Encodes `rows` (or the rows at `select`) with fitted steps into a row-major matrix. The one
 * encoder for training splits and for scoring, so both give bit-identical input.
 */
export function encodeRows(
  prep: Preprocessing,
  columnIndex: readonly number[],
  rows: readonly (readonly (string | null)[])[],
  select?: readonly number[],
): Float32Array {
  const width = prep.featureNames.length;
  const count = select ? select.length : rows.length;
  const x = new Float32Array(count * width);
  const steps = prep.columns;
  const lookups = steps.map((s) => (s.kind === 'categorical' ? new Map(s.categories.map((c, i) => [c, i])) : undefined));
  for (let k = 0; k < count; k++) {
    const r = select ? select[k]! : k;
    const row = rows[r]!;
    let offset = k * width;
    for (let j = 0; j < steps.length; j++) {
      const step = steps[j]!;
      const cell = normaliseCell(row[columnIndex[j]!]);
      if (step.kind === 'numeric') {
        let value = step.fill;
        if (cell !== null) {
          const n = parseNumber(cell);
          if (n === undefined) throw new NonNumericValueError(step.name, cell, r + 1, 'is numeric');
          value = n;
        }
        x[offset++] = (value - step.mean) / step.std;
      } else {
        const category = cell ?? step.fill;
        const at = category === null ? undefined : lookups[j]!.get(category);
        if (at !== undefined) x[offset + at] = 1;
        offset += step.categories.length;
      }
    }
  }
  return x;
}

/**
 * Turns raw rows (as read from a CSV with header `columns`) into model input with saved
 * preprocessing. Extra columns, such as the target, are ignored.
 * @throws MissingColumnError when a column the preprocessing needs is absent;
 *   NonNumericValueError for a non-number in a numeric column; CorruptFeaturesError for an
 *   invalid preprocessing object.
 */
export function transformRows(
  preprocessing: Record<string, unknown>,
  columns: readonly string[],
  rows: readonly (readonly (string | null)[])[],
): Float32Array {
  const prep = parsePreprocessing(preprocessing);
  const names = columns.map((c) => c.trim());
  const columnIndex = prep.columns.map((step) => {
    const i = names.indexOf(step.name);
    if (i < 0) throw new MissingColumnError(step.name, names);
    return i;
  });
  return encodeRows(prep, columnIndex, rows);
}
