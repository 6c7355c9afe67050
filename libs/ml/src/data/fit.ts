import type { DatasetProfile } from '@apo/messages';
import { categoriesOf } from './profile.ts';
import { PREPROCESSING_FORMAT, type Preprocessing, type PreprocessingStep } from './preprocessing.ts';
import type { Table } from './table.ts';
import { rowsWithTarget } from './target.ts';
import { compareStrings, parseNumber } from './values.ts';

/** Median of the non-NaN values (0 when there are none). */
function median(values: Float64Array): number {
  const present = new Float64Array(values.length);
  let n = 0;
  for (const v of values) if (!Number.isNaN(v)) present[n++] = v;
  if (n === 0) return 0;
  // A typed array sorts numerically, and far faster than an array with a comparator.
  const sorted = present.subarray(0, n).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The train values of the numeric columns, one array per column (NaN = missing). Read row by row:
 * a row's cells sit together in memory, so this is many times faster than column by column over
 * shuffled rows.
 */
function numericValues(table: Table, columns: readonly number[], train: readonly number[]): Float64Array[] {
  const values = columns.map(() => new Float64Array(train.length));
  train.forEach((r, k) => {
    const row = table.rows[r]!;
    columns.forEach((c, j) => {
      const cell = row[c] ?? null;
      values[j]![k] = cell === null ? Number.NaN : parseNumber(cell)!;
    });
  });
  return values;
}

function numericStep(name: string, values: Float64Array): PreprocessingStep {
  const fill = median(values);
  // Statistics of the filled column, as an imputer followed by a scaler would see it.
  const filled = values.map((v) => (Number.isNaN(v) ? fill : v));
  const mean = filled.reduce((a, b) => a + b, 0) / filled.length;
  const variance = filled.reduce((a, v) => a + (v - mean) ** 2, 0) / filled.length;
  const std = Math.sqrt(variance);
  return { name, kind: 'numeric', fill, mean, std: std > 0 ? std : 1 };
}

function categoricalStep(table: Table, name: string, train: readonly number[], categories: string[]): PreprocessingStep {
  const c = table.columns.indexOf(name);
  const counts = new Map<string, number>();
  for (const r of train) {
    const v = table.rows[r]![c];
    if (v !== null && v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let fill: string | null = null;
  for (const [value, n] of counts) {
    // Ties go to the first in code-unit order, so the choice does not depend on row order.
    const best = fill === null ? 0 : counts.get(fill)!;
    if (n > best || (n === best && fill !== null && compareStrings(value, fill) < 0)) fill = value;
  }
  return { name, kind: 'categorical', fill, categories };
}

/**
 * Fits the preprocessing: fill values, means and deviations come from the train rows only; the
 * category list of a one-hot column comes from all rows with a target, so the encoded width is
 * the profile's `featureCount` whatever the split (a category absent from train is a column of
 * zeros there, which carries no information about the held-out labels).
 */
export function fitPreprocessing(table: Table, profile: DatasetProfile, train: readonly number[]): Preprocessing {
  const usable = rowsWithTarget(table);
  const numeric = new Set(profile.numericColumns);
  const categorical = new Set(profile.categoricalColumns);
  const numericIndex = table.columns.flatMap((name, c) => (numeric.has(name) ? [c] : []));
  const values = numericValues(table, numericIndex, train);
  const columns: PreprocessingStep[] = [];
  const featureNames: string[] = [];
  for (const [c, name] of table.columns.entries()) {
    if (numeric.has(name)) {
      columns.push(numericStep(name, values[numericIndex.indexOf(c)]!));
      featureNames.push(name);
    } else if (categorical.has(name)) {
      const categories = categoriesOf(table, name, usable);
      columns.push(categoricalStep(table, name, train, categories));
      featureNames.push(...categories.map((category) => `${name}=${category}`));
    }
  }
  return {
    format: PREPROCESSING_FORMAT,
    columns,
    featureNames,
    target: { name: profile.target, task: profile.task, classes: (profile.classes ?? []).map((c) => c.label) },
  };
}
