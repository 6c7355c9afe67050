import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseCsv } from './csv.ts';
import { DatasetTooLargeError } from './errors/dataset-too-large-error.ts';
import { TargetColumnNotFoundError } from './errors/target-column-not-found-error.ts';
import { resolveDataset } from './resolve.ts';

/** A dataset as read: a header, rows of trimmed cells (null = missing) and the chosen target. */
export interface Table {
  /** The URI as the user gave it. */
  uri: string;
  columns: string[];
  rows: (string | null)[][];
  /** The target column: the one asked for, else the last. */
  target: string;
  /** `sha256:<hex>` of the parsed content; the dataset key. */
  contentHash: string;
}

/** Where a dataset reference points and what the caller wants from it. */
export interface DatasetRefInput {
  uri: string;
  target?: string;
}

/** Where user datasets may be read from, and how large they may be. */
export interface LoadDatasetOptions {
  /** Directory user datasets must lie in (after following symlinks). */
  dataRoot: string;
  /** Largest file accepted; default `DEFAULT_MAX_DATASET_BYTES`. */
  maxBytes?: number;
}

/** 200 MB: the parsed rows take several times the file's size in memory. */
export const DEFAULT_MAX_DATASET_BYTES = 200 * 1024 * 1024;

/**
 * SHA-256 of the parsed content (header and cells, missing as null), so line endings, a BOM,
 * quoting style, stray whitespace or the spelling of a missing value do not change the key,
 * while any change of a value does. Hashed row by row to avoid one huge string.
 */
export function contentHash(columns: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const hash = createHash('sha256').update(JSON.stringify(columns));
  for (const row of rows) hash.update('\n').update(JSON.stringify(row));
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Reads a dataset: `builtin:<name>`, or a CSV under `options.dataRoot` given as a relative path,
 * an absolute path or a `file://` URI.
 * @throws InvalidInputError subclasses: `UnknownBuiltinDatasetError`, `UnsupportedDatasetUriError`,
 *   `DatasetOutsideDataRootError`, `DatasetNotFoundError`, `DatasetTooLargeError`,
 *   `InvalidCsvError`, `TargetColumnNotFoundError`.
 */
export async function loadDataset(ref: DatasetRefInput, options: LoadDatasetOptions): Promise<Table> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  const file = await resolveDataset(ref.uri, options.dataRoot);
  if (file.bytes > maxBytes) throw new DatasetTooLargeError(ref.uri, file.bytes, maxBytes);
  const bytes = await readFile(file.path);
  // The file may have grown since it was measured.
  if (bytes.byteLength > maxBytes) throw new DatasetTooLargeError(ref.uri, bytes.byteLength, maxBytes);

  const { columns, rows } = parseCsv(ref.uri, bytes);
  const wanted = ref.target?.trim();
  const target = wanted === undefined || wanted === '' ? columns[columns.length - 1]! : wanted;
  if (!columns.includes(target)) throw new TargetColumnNotFoundError(target, columns);
  return { uri: ref.uri, columns, rows, target, contentHash: contentHash(columns, rows) };
}
