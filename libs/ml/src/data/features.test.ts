import { DEFAULT_SPLIT, InvalidInputError, type DatasetProfile, type SplitSpec } from '@apo/messages';
import { describe, expect, it } from 'vitest';
import type { PreparedFeatures } from '../types.ts';
import { MissingColumnError } from './errors/missing-column-error.ts';
import { NonNumericValueError } from './errors/non-numeric-value-error.ts';
import { ProfileMismatchError } from './errors/profile-mismatch-error.ts';
import { TooFewRowsError } from './errors/too-few-rows-error.ts';
import { prepareFeatures } from './features.ts';
import { parsePreprocessing, transformRows } from './preprocessing.ts';
import { profileDataset } from './profile.ts';
import { splitIndices } from './split.ts';
import { contentHash, loadDataset, type Table } from './table.ts';

const SPLITS = ['train', 'validation', 'test'] as const;

function table(columns: string[], rows: (string | null)[][]): Table {
  return { uri: 'memory.csv', columns, rows, target: columns[columns.length - 1]!, contentHash: contentHash(columns, rows) };
}

async function builtin(name: string): Promise<{ table: Table; profile: DatasetProfile }> {
  const t = await loadDataset({ uri: `builtin:${name}` }, { dataRoot: '.' });
  return { table: t, profile: profileDataset(t) };
}

function prepare(t: Table, p: DatasetProfile, seed = 42, split: SplitSpec = DEFAULT_SPLIT): PreparedFeatures {
  return prepareFeatures(t, p, { split, seed });
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function std(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function column(x: Float32Array, width: number, j: number): number[] {
  return Array.from({ length: x.length / width }, (_, k) => x[k * width + j]!);
}

/** 60 rows: a skewed numeric column with gaps, a colour with gaps and one rare colour, a label. */
function messy(): Table {
  const rows = Array.from({ length: 60 }, (_, i) => [
    i % 7 === 3 ? null : String((i * i) % 97),
    i === 17 ? 'violet' : i % 9 === 4 ? null : ['red', 'green', 'blue', 'red'][i % 4]!,
    String((i * 13) % 10),
    i % 3 === 0 ? 'yes' : 'no',
  ]);
  return table(['size', 'color', 'score', 'label'], rows);
}

describe('no leakage from validation and test', () => {
  it('normalises with the mean and deviation of the training rows only', async () => {
    const { table: t, profile } = await builtin('wine');
    const features = prepare(t, profile, 7);
    const { train } = splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 7 });
    const prep = parsePreprocessing(features.preprocessing);
    t.columns.slice(0, -1).forEach((_, j) => {
      const trainValues = train.map((r) => Number(t.rows[r]![j]));
      const allValues = t.rows.map((r) => Number(r[j]));
      const step = prep.columns[j]!;
      expect(step.kind).toBe('numeric');
      if (step.kind !== 'numeric') return;
      expect(step.mean).toBeCloseTo(mean(trainValues), 9);
      expect(step.std).toBeCloseTo(std(trainValues), 9);
      expect(step.mean).not.toBeCloseTo(mean(allValues), 9);
      const encoded = column(features.train.x, features.featureCount, j);
      expect(mean(encoded)).toBeCloseTo(0, 5);
      expect(std(encoded)).toBeCloseTo(1, 5);
      train.forEach((r, k) => expect(encoded[k]).toBeCloseTo((trainValues[k]! - mean(trainValues)) / std(trainValues), 5));
    });
    const testMeans = Array.from({ length: features.featureCount }, (_, j) => mean(column(features.test.x, features.featureCount, j)));
    expect(testMeans.some((m) => Math.abs(m) > 0.01)).toBe(true);
  });

  it('imputes a missing value with the training median or most frequent category', () => {
    const t = messy();
    const profile = profileDataset(t);
    const features = prepare(t, profile, 3);
    const parts = splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 3 });
    const trainSizes = parts.train.map((r) => t.rows[r]![0]).filter((v) => v !== null).map(Number);
    const allSizes = t.rows.map((r) => r[0]).filter((v) => v !== null).map(Number);
    const fill = median(trainSizes);
    expect(fill).not.toBe(median(allSizes));
    const filled = parts.train.map((r) => (t.rows[r]![0] === null ? fill : Number(t.rows[r]![0])));
    const expected = Math.fround((fill - mean(filled)) / std(filled));

    const colors = parts.train.map((r) => t.rows[r]![1]).filter((v) => v !== null);
    const mode = ['blue', 'green', 'red', 'violet'].sort((a, b) => colors.filter((c) => c === b).length - colors.filter((c) => c === a).length)[0];
    const prep = parsePreprocessing(features.preprocessing);
    const names = prep.featureNames;

    let checked = 0;
    for (const s of SPLITS) {
      parts[s].forEach((r, k) => {
        const row = features[s].x.subarray(k * features.featureCount, (k + 1) * features.featureCount);
        if (t.rows[r]![0] === null) {
          expect(row[0]).toBeCloseTo(expected, 6);
          checked++;
        }
        if (t.rows[r]![1] === null) {
          expect(names.filter((_, j) => row[j] === 1)).toContain(`color=${mode}`);
          checked++;
        }
      });
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('split', () => {
  it.each(['iris', 'wine', 'breast-cancer'])('keeps every class of %s within one row of its share in each split', async (name) => {
    const { table: t, profile } = await builtin(name);
    for (const seed of [1, 2, 3]) {
      const features = prepare(t, profile, seed);
      const total = SPLITS.reduce((n, s) => n + features[s].rows, 0);
      expect(total).toBe(profile.rows);
      for (const s of SPLITS) {
        expect(Math.abs(features[s].rows - profile.rows * DEFAULT_SPLIT[s])).toBeLessThanOrEqual(1);
        profile.classes!.forEach((c, index) => {
          const count = features[s].y.filter((y) => y === index).length;
          expect(Math.abs(count - c.count * DEFAULT_SPLIT[s]), `${c.label} in ${s}`).toBeLessThan(1);
        });
      }
    }
  });

  it('stratifies an unbalanced target with an uneven split', () => {
    const rows = Array.from({ length: 103 }, (_, i) => [String(i % 17), String((i * 7) % 5), i < 80 ? 'common' : i < 97 ? 'some' : 'rare']);
    const t = table(['a', 'b', 'y'], rows);
    const profile = profileDataset(t);
    const split = { train: 0.6, validation: 0.25, test: 0.15 };
    const features = prepare(t, profile, 11, split);
    for (const s of SPLITS) {
      profile.classes!.forEach((c, index) => {
        const count = features[s].y.filter((y) => y === index).length;
        expect(Math.abs(count - c.count * split[s]), `${c.label} in ${s}`).toBeLessThan(1);
      });
    }
  });

  it('uses every row with a target exactly once', async () => {
    const t = messy();
    const parts = splitIndices(t, profileDataset(t), { split: DEFAULT_SPLIT, seed: 5 });
    const all = [...parts.train, ...parts.validation, ...parts.test].sort((a, b) => a - b);
    expect(all).toEqual(t.rows.map((_, i) => i));
  });

  it('mixes the classes within a split even when the file is sorted by class', async () => {
    const { table: t, profile } = await builtin('iris');
    const { train } = prepare(t, profile);
    const firstThird = Array.from(train.y.subarray(0, 35));
    expect(new Set(firstThird).size).toBe(3);
  });

  it('gives the same split for the same seed and another for another seed', async () => {
    const { table: t, profile } = await builtin('breast-cancer');
    const a = prepare(t, profile, 42);
    const b = prepare(t, profile, 42);
    const c = prepare(t, profile, 43);
    expect(b).toEqual(a);
    expect(c.test.x).not.toEqual(a.test.x);
    expect(splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 42 })).toEqual(splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 42 }));
  });

  it('shuffles a regression dataset and keeps raw target values', async () => {
    const { table: t, profile } = await builtin('diabetes');
    const features = prepare(t, profile);
    expect([features.train.rows, features.validation.rows, features.test.rows]).toEqual([310, 66, 66]);
    expect(features).toMatchObject({ task: 'regression', classCount: 0, classes: [], featureCount: 10 });
    const parts = splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 42 });
    expect(Array.from(features.test.y)).toEqual(parts.test.map((r) => Math.fround(Number(t.rows[r]![10]))));
    expect(parts.test).not.toEqual([...parts.test].sort((a, b) => a - b));
  });
});

describe('encoding', () => {
  it('label-encodes the target in the order of profile.classes', async () => {
    const { table: t, profile } = await builtin('breast-cancer');
    const features = prepare(t, profile);
    expect(features.classes).toEqual(['benign', 'malignant']);
    expect(features.classCount).toBe(2);
    const benign = SPLITS.reduce((n, s) => n + features[s].y.filter((y) => y === 0).length, 0);
    expect(benign).toBe(357);
    const parts = splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 42 });
    parts.validation.forEach((r, k) => expect(features.classes[features.validation.y[k]!]).toBe(t.rows[r]![30]));
  });

  it('has the width the profile announced, even for a category missing from train', () => {
    const t = messy();
    const profile = profileDataset(t);
    expect(profile.featureCount).toBe(1 + 4 + 1);
    const seed = [...Array(30).keys()].find((s) => !splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: s }).train.includes(17));
    expect(seed).toBeDefined();
    const features = prepare(t, profile, seed);
    expect(features.featureCount).toBe(profile.featureCount);
    const names = parsePreprocessing(features.preprocessing).featureNames;
    expect(names).toEqual(['size', 'color=blue', 'color=green', 'color=red', 'color=violet', 'score']);
    expect(column(features.train.x, features.featureCount, 4).every((v) => v === 0)).toBe(true);
    const elsewhere = [...column(features.validation.x, 6, 4), ...column(features.test.x, 6, 4)];
    expect(elsewhere.filter((v) => v === 1)).toHaveLength(1);
  });

  it('reproduces test.x exactly from the raw test rows, in any column order', () => {
    const t = messy();
    const profile = profileDataset(t);
    const features = prepare(t, profile);
    const saved = JSON.parse(JSON.stringify(features.preprocessing)) as Record<string, unknown>;
    const { test } = splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 42 });
    const raw = test.map((r) => t.rows[r]!);
    expect(transformRows(saved, t.columns, raw)).toEqual(features.test.x);

    const order = [3, 2, 0, 1];
    const shuffled = transformRows(saved, order.map((i) => t.columns[i]!), raw.map((row) => order.map((i) => row[i]!)));
    expect(shuffled).toEqual(features.test.x);
  });

  it('reproduces test.x of a built-in exactly', async () => {
    const { table: t, profile } = await builtin('wine');
    const features = prepare(t, profile);
    const { test } = splitIndices(t, profile, { split: DEFAULT_SPLIT, seed: 42 });
    const withoutTarget = test.map((r) => t.rows[r]!.slice(0, -1));
    expect(transformRows(features.preprocessing, t.columns.slice(0, -1), withoutTarget)).toEqual(features.test.x);
  });

  it('encodes an unseen category as all zeros and reads raw spellings of missing', () => {
    const t = messy();
    const features = prepare(t, profileDataset(t));
    const prep = parsePreprocessing(features.preprocessing);
    const [purple, missing] = [
      transformRows(features.preprocessing, ['size', 'color', 'score'], [[' 5 ', 'purple', '3']]),
      transformRows(features.preprocessing, ['size', 'color', 'score'], [['NA', ' N/A', '']]),
    ];
    expect(Array.from(purple.subarray(1, 5))).toEqual([0, 0, 0, 0]);
    const size = prep.columns[0]!;
    if (size.kind !== 'numeric') throw new Error('size should be numeric');
    expect(purple[0]).toBe(Math.fround((5 - size.mean) / size.std));
    expect(missing[0]).toBe(Math.fround((size.fill - size.mean) / size.std));
    expect(Array.from(missing.subarray(1, 5)).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('names a column the rows lack, and a non-number in a numeric column', () => {
    const t = messy();
    const features = prepare(t, profileDataset(t));
    expect(() => transformRows(features.preprocessing, ['size', 'score'], [['1', '2']])).toThrow(MissingColumnError);
    expect(() => transformRows(features.preprocessing, ['size', 'score'], [['1', '2']])).toThrow('"color"');
    expect(() => transformRows(features.preprocessing, ['size', 'color', 'score'], [['1', 'red', '2'], ['big', 'red', '2']])).toThrow(
      NonNumericValueError,
    );
  });
});

describe('refusals', () => {
  it('refuses a profile made from another table', async () => {
    const iris = await builtin('iris');
    const wine = await builtin('wine');
    expect(() => prepare(wine.table, iris.profile)).toThrow(ProfileMismatchError);
  });

  it('gives every split a row from the smallest dataset accepted', () => {
    const t = table(['x', 'y'], Array.from({ length: 10 }, (_, i) => [String((i * 3) % 7), i % 2 ? 'a' : 'b']));
    const features = prepare(t, profileDataset(t));
    expect([features.train.rows, features.validation.rows, features.test.rows]).toEqual([7, 2, 1]);
  });

  it('refuses a split that would leave one empty, naming it', () => {
    const t = table(['x', 'y'], Array.from({ length: 10 }, (_, i) => [String((i * 3) % 7), String(i * 1.5)]));
    const run = () => prepare(t, profileDataset(t), 1, { train: 0.9, validation: 0.05, test: 0.05 });
    expect(run).toThrow(TooFewRowsError);
    expect(run).toThrow('test split (0.05) empty');
  });

  it('refuses a split that does not add up to 1', async () => {
    const { table: t, profile } = await builtin('iris');
    expect(() => prepare(t, profile, 1, { train: 0.7, validation: 0.2, test: 0.2 })).toThrow(InvalidInputError);
  });
});
