import { fileURLToPath } from 'node:url';

/** Names accepted after `builtin:`; each is `<name>.csv` in the library's `datasets/` folder. */
export const BUILTIN_DATASETS = ['breast-cancer', 'diabetes', 'iris', 'wine'] as const;
/** The name of a built-in dataset. */
export type BuiltinDataset = (typeof BUILTIN_DATASETS)[number];

// Resolved from this file, not the working directory, so it works from any app or test runner.
const DATASETS_DIR = fileURLToPath(new URL('../../datasets/', import.meta.url));

/** The file of a built-in dataset, or undefined for an unknown name. */
export function builtinDatasetPath(name: string): string | undefined {
  return (BUILTIN_DATASETS as readonly string[]).includes(name) ? `${DATASETS_DIR}${name}.csv` : undefined;
}
