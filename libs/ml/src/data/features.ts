import { formatIssues, InvalidInputError, SplitSpec, type DatasetProfile } from '@apo/messages';
import type { PreparedFeatures, SplitArrays } from '../types.ts';
import { ProfileMismatchError } from './errors/profile-mismatch-error.ts';
import { fitPreprocessing } from './fit.ts';
import { encodeRows } from './preprocessing.ts';
import { splitIndices, type SplitOptions } from './split.ts';
import type { Table } from './table.ts';
import { labelRule, rowsWithTarget } from './target.ts';
import { parseNumber } from './values.ts';

/** Throws `ProfileMismatchError` unless `profile` was made from `table`. */
export function checkProfile(table: Table, profile: DatasetProfile): void {
  if (profile.datasetKey !== table.contentHash) {
    throw new ProfileMismatchError(`profile datasetKey ${profile.datasetKey}, table ${table.contentHash}`);
  }
  if (profile.target !== table.target) {
    throw new ProfileMismatchError(`profile target "${profile.target}", table target "${table.target}"`);
  }
  const rows = rowsWithTarget(table).length;
  if (profile.rows !== rows) throw new ProfileMismatchError(`profile has ${profile.rows} rows, table ${rows}`);
}

function checkOptions(options: SplitOptions): void {
  const split = SplitSpec.safeParse(options.split);
  if (!split.success) throw new InvalidInputError(`split: ${formatIssues(split.error)}`);
  if (!Number.isInteger(options.seed) || options.seed < 0) {
    throw new InvalidInputError(`seed must be a non-negative integer, got ${options.seed}`);
  }
}

/**
 * Splits, encodes and normalises a profiled table: stratified seeded split (see
 * `splitIndices`), then imputation, z-scores and one-hot encoding fitted on the train split only
 * (see `fitPreprocessing`), and the target label-encoded in `profile.classes` order.
 * @throws ProfileMismatchError when the profile was made from another table;
 *   InvalidInputError for a bad split or seed; TooFewRowsError when a split would be empty.
 */
export function prepareFeatures(table: Table, profile: DatasetProfile, options: SplitOptions): PreparedFeatures {
  checkOptions(options);
  checkProfile(table, profile);
  const parts = splitIndices(table, profile, options);
  const prep = fitPreprocessing(table, profile, parts.train);
  const featureCount = prep.featureNames.length;
  if (featureCount !== profile.featureCount) {
    throw new ProfileMismatchError(`profile featureCount ${profile.featureCount}, encoded ${featureCount}`);
  }

  const columnIndex = prep.columns.map((s) => table.columns.indexOf(s.name));
  const t = table.columns.indexOf(table.target);
  const classes = prep.target.classes;
  const classIndex = new Map(classes.map((label, i) => [label, i]));
  const rule = labelRule(rowsWithTarget(table).map((r) => table.rows[r]![t]!));
  const targetOf = (r: number): number => {
    const value = table.rows[r]![t]!;
    if (profile.task === 'regression') return parseNumber(value)!;
    const index = classIndex.get(rule.label(value));
    if (index === undefined) throw new ProfileMismatchError(`class "${value}" is not in the profile`);
    return index;
  };
  const arrays = (select: number[]): SplitArrays => ({
    x: encodeRows(prep, columnIndex, table.rows, select),
    y: Float32Array.from(select, targetOf),
    rows: select.length,
  });

  return {
    featureCount,
    task: profile.task,
    classCount: classes.length,
    classes,
    train: arrays(parts.train),
    validation: arrays(parts.validation),
    test: arrays(parts.test),
    preprocessing: prep,
  };
}
