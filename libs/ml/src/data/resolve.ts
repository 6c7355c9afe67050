import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_DATASETS, builtinDatasetPath } from './builtin.ts';
import { DatasetNotFoundError } from './errors/dataset-not-found-error.ts';
import { DatasetOutsideDataRootError } from './errors/dataset-outside-data-root-error.ts';
import { UnknownBuiltinDatasetError } from './errors/unknown-builtin-dataset-error.ts';
import { UnsupportedDatasetUriError } from './errors/unsupported-dataset-uri-error.ts';

/** A dataset file found on disk: its real path and size. */
export interface ResolvedDataset {
  path: string;
  bytes: number;
}

// Two letters at least, so a Windows drive ("C:\data.csv") is a path, not a scheme.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Finds the file a dataset URI names: `builtin:<name>`, a path relative to `dataRoot`, an
 * absolute path or a `file://` URI. Anything but a built-in must lie inside `dataRoot` after
 * following symlinks.
 */
export async function resolveDataset(uri: string, dataRoot: string): Promise<ResolvedDataset> {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  let given: string;
  if (scheme === 'builtin') {
    const name = uri.slice(uri.indexOf(':') + 1);
    const path = builtinDatasetPath(name);
    if (path === undefined) throw new UnknownBuiltinDatasetError(uri, BUILTIN_DATASETS);
    return { path, bytes: (await stat(path)).size };
  } else if (scheme === 'file') {
    try {
      given = fileURLToPath(uri);
    } catch (err) {
      throw new UnsupportedDatasetUriError(uri, `not a local file URI (${(err as Error).message})`);
    }
  } else if (scheme !== undefined) {
    throw new UnsupportedDatasetUriError(
      uri,
      `the scheme "${scheme}:" is not supported; use builtin:<name>, a path under the data root or a file:// URI`,
    );
  } else {
    given = uri;
  }

  const root = resolve(dataRoot);
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (err) {
    if (isMissing(err)) throw new DatasetNotFoundError(uri, `the data root ${root} does not exist`);
    throw err;
  }
  const candidate = resolve(root, given);
  // Checked before touching the file, so error kinds never reveal what exists outside the root.
  if (!isInside(root, candidate) && !isInside(realRoot, candidate)) {
    throw new DatasetOutsideDataRootError(uri, root);
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (err) {
    if (isMissing(err)) throw new DatasetNotFoundError(uri, `no file at ${candidate}`);
    throw err;
  }
  if (!isInside(realRoot, real)) throw new DatasetOutsideDataRootError(uri, root);
  const info = await stat(real);
  if (!info.isFile()) throw new DatasetNotFoundError(uri, `${candidate} is not a regular file`);
  return { path: real, bytes: info.size };
}
