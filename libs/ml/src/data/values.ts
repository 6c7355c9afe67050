/**
 * Spellings of a missing value, compared case-insensitively after trimming: the ones pandas, R
 * and spreadsheet exports write. `None`/`-` are deliberately absent: they are real categories in
 * too many datasets.
 */
export const MISSING_VALUE_SPELLINGS: readonly string[] = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', '?'];

const MISSING = new Set(MISSING_VALUE_SPELLINGS.map((s) => s.toLowerCase()));

/** A cell as the rest of the module sees it: trimmed, or null when it spells a missing value. */
export function normaliseCell(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const value = raw.trim();
  return MISSING.has(value.toLowerCase()) ? null : value;
}

// Plain decimal notation only: `Number()` would also take "0x1f", "0b1" and "1_0"-like inputs
// that in a CSV are codes, not quantities.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The finite number a cell spells, or undefined when it is not one. */
export function parseNumber(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Code-unit order: the same on every machine, unlike `localeCompare`, which follows the ICU locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
