import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetNotFoundError } from './errors/dataset-not-found-error.ts';
import { DatasetOutsideDataRootError } from './errors/dataset-outside-data-root-error.ts';
import { DatasetTooLargeError } from './errors/dataset-too-large-error.ts';
import { InvalidCsvError } from './errors/invalid-csv-error.ts';
import { TargetColumnNotFoundError } from './errors/target-column-not-found-error.ts';
import { UnknownBuiltinDatasetError } from './errors/unknown-builtin-dataset-error.ts';
import { UnsupportedDatasetUriError } from './errors/unsupported-dataset-uri-error.ts';
import { loadDataset, type Table } from './table.ts';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'apo-ml-root-'));
  outside = await mkdtemp(join(tmpdir(), 'apo-ml-outside-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  await writeFile(join(root, name), content);
  return name;
}

function load(uri: string, extra: { target?: string; maxBytes?: number } = {}): Promise<Table> {
  const { target, maxBytes } = extra;
  return loadDataset(
    { uri, ...(target === undefined ? {} : { target }) },
    { dataRoot: root, ...(maxBytes === undefined ? {} : { maxBytes }) },
  );
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('reading CSV text', () => {
  it('keeps commas and newlines inside quoted fields', async () => {
    const table = await load(await file('q.csv', 'name,notes,y\n"Smith, J","line one\nline two",yes\nLee,plain,no\n'));
    expect(table.columns).toEqual(['name', 'notes', 'y']);
    expect(table.rows).toEqual([
      ['Smith, J', 'line one\nline two', 'yes'],
      ['Lee', 'plain', 'no'],
    ]);
  });

  it('reads every spelling of a missing value as null, and nothing else', async () => {
    const spellings = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', '?', ' na '];
    const body = spellings.map((s) => `${s},1`).join('\n');
    const table = await load(await file('m.csv', `a,y\n${body}\nNone,2\n0,3\n`));
    expect(table.rows.map((r) => r[0])).toEqual([...spellings.map(() => null), 'None', '0']);
  });

  it('trims whitespace around names and values, inside quotes too', async () => {
    const table = await load(await file('w.csv', ' a ,  b,y \n 1 ," x ",  yes \n'));
    expect(table.columns).toEqual(['a', 'b', 'y']);
    expect(table.rows).toEqual([['1', 'x', 'yes']]);
  });

  it('ignores a UTF-8 BOM, CRLF line endings and blank lines, and hashes the content alike', async () => {
    const plain = await load(await file('plain.csv', 'a,y\n1,x\n2,z\n'));
    const bom = await load(await file('bom.csv', '\uFEFFa,y\r\n1,x\r\n\r\n"2",z\r\n'));
    expect(bom.columns).toEqual(['a', 'y']);
    expect(bom.rows).toEqual(plain.rows);
    expect(bom.contentHash).toBe(plain.contentHash);
    expect(plain.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('gives another content hash when one value changes', async () => {
    const a = await load(await file('a.csv', 'a,y\n1,x\n2,z\n'));
    const b = await load(await file('b.csv', 'a,y\n1,x\n3,z\n'));
    expect(a.contentHash).not.toBe(b.contentHash);
  });

  it('takes the last column as the target unless one is named', async () => {
    const name = await file('t.csv', 'a,label,b\n1,x,2\n');
    expect((await load(name)).target).toBe('b');
    expect((await load(name, { target: ' label ' })).target).toBe('label');
  });

  it('names a missing target and lists the columns', async () => {
    const err = await failure(load(await file('t.csv', 'a,Label,b\n1,x,2\n'), { target: 'label' }));
    expect(err).toBeInstanceOf(TargetColumnNotFoundError);
    expect(err.message).toContain('"label"');
    expect(err.message).toContain('"a", "Label", "b"');
    expect(err.message).toContain('did you mean "Label"');
  });
});

describe('refusing what is not a table', () => {
  it('refuses an empty file', async () => {
    for (const content of ['', '\n\n  \n', '\uFEFF']) {
      const err = await failure(load(await file('e.csv', content)));
      expect(err).toBeInstanceOf(InvalidCsvError);
      expect(err.message).toContain('empty');
    }
  });

  it('refuses a header without rows', async () => {
    const err = await failure(load(await file('h.csv', 'a,b,y\n')));
    expect(err).toBeInstanceOf(InvalidCsvError);
    expect(err.message).toContain('no data rows');
  });

  it('names the line of a ragged row, counting quoted newlines and blank lines', async () => {
    const err = await failure(load(await file('r.csv', 'a,b,y\n1,"x\ny",1\n\n2,3\n4,5,6\n')));
    expect(err).toBeInstanceOf(InvalidCsvError);
    expect((err as InvalidCsvError).line).toBe(5);
    expect(err.message).toContain('line 5');
    expect(err.message).toContain('2 fields, the header has 3');
  });

  it('refuses binary data', async () => {
    const err = await failure(load(await file('b.csv', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08]))));
    expect(err).toBeInstanceOf(InvalidCsvError);
    expect(err.message).toContain('binary');
  });

  it('refuses text that is not UTF-8', async () => {
    const err = await failure(load(await file('l.csv', new Uint8Array([0x61, 0x2c, 0x79, 0x0a, 0xe9, 0x2c, 0x31, 0x0a]))));
    expect(err).toBeInstanceOf(InvalidCsvError);
    expect(err.message).toContain('UTF-8');
  });

  it('refuses a single column, hinting at the delimiter', async () => {
    const err = await failure(load(await file('s.csv', 'a;b;y\n1;2;3\n')));
    expect(err).toBeInstanceOf(InvalidCsvError);
    expect(err.message).toContain('at least 2');
    expect(err.message).toContain('delimiter');
  });

  it('refuses duplicate and empty column names, naming them', async () => {
    const dup = await failure(load(await file('d.csv', 'a,b, a,y\n1,2,3,4\n')));
    expect(dup).toBeInstanceOf(InvalidCsvError);
    expect(dup.message).toContain('"a" appears twice (columns 1 and 3)');
    const empty = await failure(load(await file('n.csv', 'a,,y\n1,2,3\n')));
    expect(empty).toBeInstanceOf(InvalidCsvError);
    expect(empty.message).toContain('column 2 of the header has no name');
  });

  it('refuses an unclosed quote', async () => {
    const err = await failure(load(await file('u.csv', 'a,y\n"1,2\n')));
    expect(err).toBeInstanceOf(InvalidCsvError);
  });

  it('refuses a file larger than maxBytes', async () => {
    const err = await failure(load(await file('big.csv', 'a,y\n1,2\n3,4\n'), { maxBytes: 8 }));
    expect(err).toBeInstanceOf(DatasetTooLargeError);
    expect(err.message).toContain('12 bytes');
    expect(err.message).toContain('limit of 8');
  });
});

describe('finding the file', () => {
  it('reads a relative path, an absolute path and a file:// URI under the data root', async () => {
    await mkdir(join(root, 'sub'));
    await file('sub/d.csv', 'a,y\n1,2\n');
    for (const uri of ['sub/d.csv', './sub/../sub/d.csv', join(root, 'sub/d.csv'), pathToFileURL(join(root, 'sub/d.csv')).href]) {
      const table = await load(uri);
      expect(table.rows).toEqual([['1', '2']]);
      expect(table.uri).toBe(uri);
    }
  });

  it('refuses paths outside the data root, naming the path and the root', async () => {
    await writeFile(join(outside, 'x.csv'), 'a,y\n1,2\n');
    const escapes = [
      relative(root, join(outside, 'x.csv')),
      '../x.csv',
      'sub/../../x.csv',
      '/etc/passwd',
      join(outside, 'x.csv'),
      pathToFileURL('/etc/passwd').href,
    ];
    for (const uri of escapes) {
      const err = await failure(load(uri));
      expect(err, uri).toBeInstanceOf(DatasetOutsideDataRootError);
      expect(err.message).toContain(uri);
      expect(err.message).toContain(root);
    }
  });

  it('refuses a symlink that points out of the data root, but follows one that stays inside', async () => {
    await writeFile(join(outside, 'secret.csv'), 'a,y\n1,2\n');
    await symlink(join(outside, 'secret.csv'), join(root, 'link.csv'));
    await symlink(outside, join(root, 'linkdir'));
    for (const uri of ['link.csv', 'linkdir/secret.csv']) {
      expect(await failure(load(uri))).toBeInstanceOf(DatasetOutsideDataRootError);
    }
    await file('real.csv', 'a,y\n1,2\n');
    await symlink(join(root, 'real.csv'), join(root, 'inside.csv'));
    expect((await load('inside.csv')).rows).toEqual([['1', '2']]);
  });

  it('says when the file does not exist or is a directory', async () => {
    await mkdir(join(root, 'dir'));
    for (const uri of ['nope.csv', 'dir']) {
      const err = await failure(load(uri));
      expect(err).toBeInstanceOf(DatasetNotFoundError);
      expect(err.message).toContain(uri);
    }
  });

  it('lists the built-ins for an unknown builtin: name', async () => {
    const err = await failure(load('builtin:titanic'));
    expect(err).toBeInstanceOf(UnknownBuiltinDatasetError);
    expect(err.message).toContain('builtin:titanic');
    for (const name of ['iris', 'wine', 'breast-cancer', 'diabetes']) expect(err.message).toContain(`builtin:${name}`);
  });

  it('refuses an unknown scheme and a file URI with a host', async () => {
    for (const uri of ['s3://bucket/data.csv', 'https://example.com/d.csv', 'file://server/share/d.csv']) {
      const err = await failure(load(uri));
      expect(err, uri).toBeInstanceOf(UnsupportedDatasetUriError);
      expect(err.message).toContain(uri);
    }
  });

  it('reads built-ins wherever the data root is', async () => {
    const table = await load('builtin:iris');
    expect(table.columns).toHaveLength(5);
    expect(table.rows).toHaveLength(150);
    expect(table.target).toBe('species');
  });
});
