import type { Table } from './table.ts';
import { compareStrings, parseNumber } from './values.ts';

/** Indices (into `table.rows`) of the rows that have a target value; the others are unusable. */
export function rowsWithTarget(table: Table): number[] {
  const t = table.columns.indexOf(table.target);
  const kept: number[] = [];
  table.rows.forEach((row, i) => {
    if (row[t] !== null && row[t] !== undefined) kept.push(i);
  });
  return kept;
}

/** How a classification target's values become labels, and the order labels are encoded in. */
export interface LabelRule {
  label: (value: string) => string;
  compare: (a: string, b: string) => number;
}

/**
 * For an all-numeric target, labels are the numbers ("1.0" and "1" are one class) in numeric
 * order; otherwise the trimmed strings in code-unit order. Either way the order is the same on
 * every machine, which the label encoding depends on.
 */
export function labelRule(values: readonly string[]): LabelRule {
  if (values.every((v) => parseNumber(v) !== undefined)) {
    return { label: (v) => String(parseNumber(v) ?? v), compare: (a, b) => Number(a) - Number(b) };
  }
  return { label: (v) => v, compare: compareStrings };
}
