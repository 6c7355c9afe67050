import type { DatasetProfile, SplitSpec } from '@apo/messages';
import { ProfileMismatchError } from './errors/profile-mismatch-error.ts';
import { TooFewRowsError } from './errors/too-few-rows-error.ts';
import { seededRandom, shuffle } from '../random.ts';
import type { Table } from './table.ts';
import { labelRule, rowsWithTarget } from './target.ts';

/** Row indices into `table.rows` of each split, each split in shuffled order. */
export interface SplitIndices {
  train: number[];
  validation: number[];
  test: number[];
}

/** Split fractions and the seed that decides which rows go where. */
export interface SplitOptions {
  split: SplitSpec;
  seed: number;
}

const SPLITS = ['train', 'validation', 'test'] as const;

// Products like 20 × 0.15 come out as 3.0000000000000004; rounding keeps whole quotas whole.
function quota(rows: number, fraction: number): number {
  return Math.round(rows * fraction * 1e9) / 1e9;
}

/** Largest-remainder apportionment of `rows` over the splits (ties go to the earlier split). */
function apportion(rows: number, split: SplitSpec): number[] {
  const exact = SPLITS.map((s) => quota(rows, split[s]));
  const counts = exact.map(Math.floor);
  let left = rows - counts.reduce((a, b) => a + b, 0);
  const order = [0, 1, 2].sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!));
  for (const i of order) if (left-- > 0) counts[i]!++;
  return counts;
}

/**
 * Per-class counts for a stratified split: each class gets the floor of its quota in every
 * split, and its leftover rows go to splits where its quota has a fraction, preferring the
 * split furthest behind its overall quota. So every class is within one row of its proportion
 * in every split, and the split sizes stay within about one row of theirs.
 */
function stratifiedCounts(classSizes: readonly number[], split: SplitSpec): number[][] {
  const expected = [0, 0, 0];
  const assigned = [0, 0, 0];
  return classSizes.map((size) => {
    const exact = SPLITS.map((s) => quota(size, split[s]));
    const counts = exact.map(Math.floor);
    SPLITS.forEach((_, i) => {
      expected[i]! += exact[i]!;
      assigned[i]! += counts[i]!;
    });
    const left = size - counts.reduce((a, b) => a + b, 0);
    const candidates = [0, 1, 2]
      .filter((i) => exact[i]! > counts[i]!)
      .sort((a, b) => expected[b]! - assigned[b]! - (expected[a]! - assigned[a]!) || a - b);
    for (const i of candidates.slice(0, left)) {
      counts[i]!++;
      assigned[i]!++;
    }
    return counts;
  });
}

/**
 * Splits the rows that have a target into train, validation and test: stratified by class for
 * classification, a plain shuffle for regression, both driven by `seed` alone, so a seed gives
 * the same split on every machine.
 * @throws TooFewRowsError when a split would be empty.
 */
export function splitIndices(table: Table, profile: DatasetProfile, options: SplitOptions): SplitIndices {
  const random = seededRandom(options.seed);
  const rows = rowsWithTarget(table);
  const parts: SplitIndices = { train: [], validation: [], test: [] };

  if (profile.task === 'regression') {
    shuffle(rows, random);
    const [train = 0, validation = 0] = apportion(rows.length, options.split);
    parts.train = rows.slice(0, train);
    parts.validation = rows.slice(train, train + validation);
    parts.test = rows.slice(train + validation);
  } else {
    const t = table.columns.indexOf(table.target);
    const rule = labelRule(rows.map((r) => table.rows[r]![t]!));
    const byClass = new Map((profile.classes ?? []).map((c) => [c.label, [] as number[]]));
    for (const r of rows) {
      const label = rule.label(table.rows[r]![t]!);
      const members = byClass.get(label);
      if (!members) throw new ProfileMismatchError(`class "${label}" of the table is not in the profile`);
      members.push(r);
    }
    const groups = [...byClass.values()].map((members) => shuffle(members, random));
    const counts = stratifiedCounts(
      groups.map((g) => g.length),
      options.split,
    );
    groups.forEach((members, c) => {
      let start = 0;
      SPLITS.forEach((s, i) => {
        const n = counts[c]![i]!;
        parts[s].push(...members.slice(start, start + n));
        start += n;
      });
    });
    // Without this each split would list its rows class by class.
    for (const s of SPLITS) shuffle(parts[s], random);
  }

  for (const s of SPLITS) {
    if (parts[s].length === 0) {
      throw new TooFewRowsError(
        `dataset "${table.uri}": ${rows.length} rows leave the ${s} split (${options.split[s]}) empty; use more rows or a larger ${s} fraction`,
        rows.length,
      );
    }
  }
  return parts;
}
