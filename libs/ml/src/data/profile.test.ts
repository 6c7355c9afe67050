import { DatasetProfile } from '@apo/messages';
import { describe, expect, it } from 'vitest';
import { NoUsableFeaturesError } from './errors/no-usable-features-error.ts';
import { NonNumericValueError } from './errors/non-numeric-value-error.ts';
import { TooFewRowsError } from './errors/too-few-rows-error.ts';
import { UnusableTargetError } from './errors/unusable-target-error.ts';
import { profileDataset } from './profile.ts';
import { contentHash, loadDataset, type Table } from './table.ts';

/** A table as `loadDataset` would return it, built from rows of cells. */
function table(columns: string[], rows: (string | null)[][], target = columns[columns.length - 1]!): Table {
  return { uri: 'memory.csv', columns, rows, target, contentHash: contentHash(columns, rows) };
}

/** `n` rows of a numeric feature and a label from `label(i)`. */
function labelled(n: number, label: (i: number) => string | null): Table {
  return table(
    ['x', 'y'],
    Array.from({ length: n }, (_, i) => [String((i * 7) % 11), label(i)]),
  );
}

function failure(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('built-in datasets', () => {
  it.each([
    ['iris', 150, 4, 'classification', [50, 50, 50]],
    ['wine', 178, 13, 'classification', [59, 71, 48]],
    ['breast-cancer', 569, 30, 'classification', [357, 212]],
    ['diabetes', 442, 10, 'regression', undefined],
  ] as const)('profiles builtin:%s', async (name, rows, features, task, counts) => {
    const t = await loadDataset({ uri: `builtin:${name}` }, { dataRoot: '.' });
    const profile = profileDataset(t);
    expect(DatasetProfile.parse(profile)).toEqual(profile);
    expect(profile).toMatchObject({ uri: `builtin:${name}`, rows, featureCount: features, task, datasetKey: t.contentHash });
    expect(profile.droppedColumns).toEqual([]);
    expect(profile.numericColumns).toHaveLength(features);
    expect(profile.classes?.map((c) => c.count)).toEqual(counts);
  });

  it('orders the classes by label', async () => {
    const profile = profileDataset(await loadDataset({ uri: 'builtin:breast-cancer' }, { dataRoot: '.' }));
    expect(profile.classes?.map((c) => c.label)).toEqual(['benign', 'malignant']);
  });
});

describe('columns', () => {
  it('drops constant, all-missing and identifier columns, saying why', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [
      `id-${i}`, // unique text per row
      String(i + 1), // a row counter 1..n
      'same',
      null,
      String((i * 5) % 12), // unique integers, but not in sequence: kept
      i % 3 === 0 ? 'red' : 'blue',
      i % 2 === 0 ? 'a' : 'b',
    ]);
    const profile = profileDataset(table(['uid', 'row', 'const', 'empty', 'code', 'color', 'y'], rows));
    expect(profile.droppedColumns).toEqual([
      { name: 'uid', reason: 'identifier' },
      { name: 'row', reason: 'identifier' },
      { name: 'const', reason: 'constant' },
      { name: 'empty', reason: 'all missing' },
    ]);
    expect(profile.numericColumns).toEqual(['code']);
    expect(profile.categoricalColumns).toEqual(['color']);
  });

  it('counts one output per numeric column and one per category seen', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [String(i % 5), ['red', 'green', 'blue', null][i % 4]!, i % 2 ? 'a' : 'b']);
    const profile = profileDataset(table(['n', 'color', 'y'], rows));
    expect(profile.numericColumns).toEqual(['n']);
    expect(profile.categoricalColumns).toEqual(['color']);
    expect(profile.featureCount).toBe(1 + 3);
  });

  it('treats a column with one non-number as categorical, and missing values as not counting', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [i === 3 ? null : String(i % 4), i === 5 ? 'unknown' : String(i % 3), i % 2 ? 'a' : 'b']);
    const profile = profileDataset(table(['num', 'mixed', 'y'], rows));
    expect(profile.numericColumns).toEqual(['num']);
    expect(profile.categoricalColumns).toEqual(['mixed']);
  });

  it('drops a categorical column with more categories than maxCategories', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [String(i % 4), `c${i % 10}`, i % 2 ? 'a' : 'b']);
    const profile = profileDataset(table(['n', 'city', 'y'], rows), { maxCategories: 5 });
    expect(profile.droppedColumns).toEqual([{ name: 'city', reason: 'too many categories (10 > 5)' }]);
  });

  it('refuses a table whose every feature is dropped', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [String(i), 'same', i % 2 ? 'a' : 'b']);
    const err = failure(() => profileDataset(table(['index', 'k', 'y'], rows)));
    expect(err).toBeInstanceOf(NoUsableFeaturesError);
    expect(err.message).toContain('"index" (identifier), "k" (constant)');
  });
});

describe('target', () => {
  it('drops rows without a target and counts only the rest', () => {
    const profile = profileDataset(labelled(15, (i) => (i % 5 === 0 ? null : i % 2 ? 'a' : 'b')));
    expect(profile.rows).toBe(12);
    expect(profile.classes?.reduce((n, c) => n + c.count, 0)).toBe(12);
  });

  it('reads labels that differ only in whitespace as one class', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'apo-ml-labels-'));
    try {
      const lines = Array.from({ length: 12 }, (_, i) => `${i % 5},${[' yes', 'yes ', '"  no"', 'no'][i % 4]}`);
      await writeFile(join(dir, 'l.csv'), `x,y\n${lines.join('\n')}\n`);
      const profile = profileDataset(await loadDataset({ uri: 'l.csv' }, { dataRoot: dir }));
      expect(profile.classes).toEqual([
        { label: 'no', count: 6 },
        { label: 'yes', count: 6 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads "1" and "1.0" as one numeric class, ordered as numbers', () => {
    const profile = profileDataset(labelled(30, (i) => ['1', '1.0', '2', '10', '10.00'][i % 5]!), { task: 'classification' });
    expect(profile.classes).toEqual([
      { label: '1', count: 12 },
      { label: '2', count: 6 },
      { label: '10', count: 12 },
    ]);
  });

  it('refuses a single-class target, naming the class', () => {
    const err = failure(() => profileDataset(labelled(12, () => 'yes')));
    expect(err).toBeInstanceOf(UnusableTargetError);
    expect(err.message).toContain('"y"');
    expect(err.message).toContain('single class "yes"');
  });

  it('refuses a class too small to appear in every split, naming it', () => {
    const err = failure(() => profileDataset(labelled(20, (i) => (i < 2 ? 'rare' : i % 2 ? 'a' : 'b'))));
    expect(err).toBeInstanceOf(UnusableTargetError);
    expect(err.message).toContain('"rare" (2)');
  });

  it('refuses a non-numeric target for regression, naming the value and row', () => {
    const err = failure(() => profileDataset(labelled(12, (i) => (i === 6 ? 'high' : String(i * 1.5))), { task: 'regression' }));
    expect(err).toBeInstanceOf(NonNumericValueError);
    expect(err.message).toContain('"y"');
    expect(err.message).toContain('"high"');
    expect(err.message).toContain('row 7');
  });

  it('refuses fewer than 10 rows with a target', () => {
    const err = failure(() => profileDataset(labelled(12, (i) => (i < 3 ? null : i % 2 ? 'a' : 'b'))));
    expect(err).toBeInstanceOf(TooFewRowsError);
    expect(err.message).toContain('9 rows');
  });
});

describe('task', () => {
  it.each([
    ['text labels', (i: number) => (i % 2 ? 'cat' : 'dog'), 'classification'],
    ['0/1 codes', (i: number) => String(i % 2), 'classification'],
    ['a few integer codes', (i: number) => String(i % 4), 'classification'],
    ['decimals', (i: number) => (i * 0.37).toFixed(2), 'regression'],
    ['many distinct integers', (i: number) => String(i * 3), 'regression'],
  ] as const)('infers it from %s', (_, label, task) => {
    expect(profileDataset(labelled(100, label)).task).toBe(task);
  });

  it('infers regression for integers with fewer than 5 rows per value', () => {
    expect(profileDataset(labelled(30, (i) => String(i % 8))).task).toBe('regression');
  });

  it('uses the task it is given', () => {
    const profile = profileDataset(labelled(100, (i) => String(i % 2)), { task: 'regression' });
    expect(profile.task).toBe('regression');
    expect(profile.classes).toBeUndefined();
  });
});
