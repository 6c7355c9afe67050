import { DatasetProfile, type Task } from '@apo/messages';
import { NoUsableFeaturesError } from './errors/no-usable-features-error.ts';
import { NonNumericValueError } from './errors/non-numeric-value-error.ts';
import { TooFewRowsError } from './errors/too-few-rows-error.ts';
import { UnusableTargetError } from './errors/unusable-target-error.ts';
import type { Table } from './table.ts';
import { labelRule, rowsWithTarget } from './target.ts';
import { compareStrings, parseNumber } from './values.ts';

/** Fewest rows with a target: below this a 3-way split leaves splits of one or two rows. */
export const MIN_ROWS = 10;
/** Fewest rows per class, so that train, validation and test can each hold one. */
export const MIN_CLASS_ROWS = 3;
/** A numeric target with at most this many distinct integers may be a class code. */
export const MAX_INFERRED_CLASSES = 20;
/** ...and only when there are on average this many rows per distinct value. */
export const MIN_ROWS_PER_INFERRED_CLASS = 5;
/** A categorical column with more distinct values than this is dropped (one-hot width). */
export const DEFAULT_MAX_CATEGORIES = 100;

/** Choices the caller may make for `profileDataset`. */
export interface ProfileOptions {
  /** The task, when the KPI decides it; inferred from the target otherwise. */
  task?: Task;
  /** Categorical columns with more distinct values are dropped; default `DEFAULT_MAX_CATEGORIES`. */
  maxCategories?: number;
}

/** Non-missing values of one column, and how many distinct ones (numbers compared as numbers). */
interface ColumnSummary {
  present: number;
  numeric: boolean;
  /** For a numeric column only 0, 1 or 2 (meaning "more than one"): nothing needs the exact count. */
  distinct: number;
}

function cell(table: Table, row: number, column: number): string | null {
  return table.rows[row]![column] ?? null;
}

/** The distinct non-missing values of a column over the given rows. */
function distinctValues(table: Table, column: number, rows: readonly number[]): { present: number; values: Set<string> } {
  const values = new Set<string>();
  let present = 0;
  for (const r of rows) {
    const value = cell(table, r, column);
    if (value === null) continue;
    present++;
    values.add(value);
  }
  return { present, values };
}

// Numeric columns are checked without a set of their values: with one distinct float per row,
// building it would cost more than the rest of profiling.
function summarise(table: Table, column: number, rows: readonly number[]): ColumnSummary {
  let present = 0;
  let first: number | undefined;
  let varies = false;
  for (const r of rows) {
    const value = cell(table, r, column);
    if (value === null) continue;
    const n = parseNumber(value);
    if (n === undefined) {
      const { present: all, values } = distinctValues(table, column, rows);
      return { present: all, numeric: false, distinct: values.size };
    }
    present++;
    if (first === undefined) first = n;
    else if (n !== first) varies = true;
  }
  return { present, numeric: true, distinct: present === 0 ? 0 : varies ? 2 : 1 };
}

/**
 * A row counter: integers rising by exactly one from row to row over the whole file (0..n-1,
 * 1..n, 1001..). Judged on every row, not only those with a target, since it numbers the file.
 * Unique integers in another order may be a real quantity, so they are kept.
 */
function isRowCounter(table: Table, column: number): boolean {
  let previous: number | undefined;
  for (const row of table.rows) {
    const value = row[column];
    const n = value === null || value === undefined ? undefined : parseNumber(value);
    if (n === undefined || !Number.isInteger(n)) return false;
    if (previous !== undefined && n !== previous + 1) return false;
    previous = n;
  }
  return table.rows.length >= 2;
}

/** Why a feature column is dropped, or undefined to keep it. */
function dropReason(table: Table, column: number, s: ColumnSummary, maxCategories: number): string | undefined {
  if (s.present === 0) return 'all missing';
  if (s.distinct === 1) return 'constant';
  if (s.numeric) return isRowCounter(table, column) ? 'identifier' : undefined;
  // Every row its own value: a key or free text, which says nothing about unseen rows.
  if (s.distinct === s.present) return 'identifier';
  if (s.distinct > maxCategories) return `too many categories (${s.distinct} > ${maxCategories})`;
  return undefined;
}

function inferTask(values: readonly string[]): Task {
  const numbers = values.map(parseNumber);
  if (numbers.some((n) => n === undefined)) return 'classification';
  if (!numbers.every((n) => Number.isInteger(n))) return 'regression';
  const distinct = new Set(numbers).size;
  return distinct <= MAX_INFERRED_CLASSES && distinct * MIN_ROWS_PER_INFERRED_CLASS <= values.length
    ? 'classification'
    : 'regression';
}

function classCounts(table: Table, values: readonly string[]): { label: string; count: number }[] {
  const rule = labelRule(values);
  const counts = new Map<string, number>();
  for (const v of values) {
    const label = rule.label(v);
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const classes = [...counts.keys()].sort(rule.compare).map((label) => ({ label, count: counts.get(label)! }));
  if (classes.length === 1) {
    throw new UnusableTargetError(
      table.target,
      `has a single class "${classes[0]!.label}" (all ${values.length} rows); classification needs at least 2`,
    );
  }
  const rare = classes.filter((c) => c.count < MIN_CLASS_ROWS);
  if (rare.length > 0) {
    const list = rare.map((c) => `"${c.label}" (${c.count})`).join(', ');
    throw new UnusableTargetError(
      table.target,
      `each class needs at least ${MIN_CLASS_ROWS} rows so train, validation and test can each hold one; too few: ${list}`,
    );
  }
  return classes;
}

function checkRegressionTarget(table: Table, rows: readonly number[], values: readonly string[]): void {
  const bad = values.findIndex((v) => parseNumber(v) === undefined);
  if (bad >= 0) {
    throw new NonNumericValueError(table.target, values[bad]!, rows[bad]! + 1, 'is the target of a regression and must be numeric', true);
  }
  if (new Set(values.map(parseNumber)).size === 1) {
    throw new UnusableTargetError(table.target, `has the single value ${values[0]} in every row; there is nothing to predict`);
  }
}

/**
 * What a dataset is, before any training: usable rows (those with a target), which columns are
 * numeric, categorical or dropped (and why), the task, the one-hot input width and the classes.
 * Numeric: every non-missing value is a finite decimal number; otherwise categorical.
 * Dropped: "all missing"; "constant" (one distinct value); "identifier" (a categorical column
 * with a different value in every row that has one, or integers rising by exactly 1 through the
 * file); "too many categories" (more than `maxCategories`).
 * Task, unless given: classification for a non-numeric target, or integers with at most
 * `MAX_INFERRED_CLASSES` distinct values and `MIN_ROWS_PER_INFERRED_CLASS` rows per value on
 * average; regression otherwise.
 * @throws TooFewRowsError, UnusableTargetError, NonNumericValueError, NoUsableFeaturesError.
 */
export function profileDataset(table: Table, options: ProfileOptions = {}): DatasetProfile {
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  const t = table.columns.indexOf(table.target);
  const rows = rowsWithTarget(table);
  if (rows.length < MIN_ROWS) {
    throw new TooFewRowsError(
      `dataset "${table.uri}" has ${rows.length} rows with a value in target column "${table.target}"; at least ${MIN_ROWS} are needed`,
      rows.length,
    );
  }
  const values = rows.map((r) => table.rows[r]![t]!);
  const task = options.task ?? inferTask(values);
  let classes: { label: string; count: number }[] | undefined;
  if (task === 'classification') classes = classCounts(table, values);
  else checkRegressionTarget(table, rows, values);

  const numericColumns: string[] = [];
  const categoricalColumns: string[] = [];
  const droppedColumns: { name: string; reason: string }[] = [];
  let featureCount = 0;
  table.columns.forEach((name, c) => {
    if (c === t) return;
    const summary = summarise(table, c, rows);
    const reason = dropReason(table, c, summary, maxCategories);
    if (reason !== undefined) {
      droppedColumns.push({ name, reason });
    } else if (summary.numeric) {
      numericColumns.push(name);
      featureCount += 1;
    } else {
      categoricalColumns.push(name);
      featureCount += summary.distinct;
    }
  });
  if (featureCount === 0) throw new NoUsableFeaturesError(table.target, droppedColumns);

  return DatasetProfile.parse({
    datasetKey: table.contentHash,
    uri: table.uri,
    target: table.target,
    task,
    rows: rows.length,
    numericColumns,
    categoricalColumns,
    droppedColumns,
    featureCount,
    ...(classes ? { classes } : {}),
  });
}

/** The categories of a categorical column over the usable rows, in code-unit order. */
export function categoriesOf(table: Table, column: string, rows: readonly number[]): string[] {
  const c = table.columns.indexOf(column);
  return [...distinctValues(table, c, rows).values].sort(compareStrings);
}
