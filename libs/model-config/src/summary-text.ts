import { CONFIGURATION_NOTATION, formatConfiguration } from './format.ts';
import type { HistorySummary, LayerCountGroup } from './summary.ts';

/** Longest error shown per failed configuration in the text; the gist fits in a line. */
export const MAX_TEXT_ERROR_LENGTH = 60;

function value(v: number | null): string {
  return v === null ? '-' : String(Number(v.toPrecision(4)));
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function shortError(error: string): string {
  const line = error.split('\n', 1)[0]?.replace(/\s+/g, ' ').trim() ?? '';
  return line.length > MAX_TEXT_ERROR_LENGTH ? `${line.slice(0, MAX_TEXT_ERROR_LENGTH - 1)}…` : line;
}

function groupLines(group: LayerCountGroup): string[] {
  const stats =
    group.succeeded > 0
      ? `best ${value(group.best)}, median ${value(group.median)}, worst ${value(group.worst)}`
      : 'none succeeded';
  const runs = `${plural(group.count, 'run')} (${group.succeeded} ok, ${group.failed} failed)`;
  return [
    `${plural(group.layerCount, 'layer')}: ${runs}; ${stats}`,
    ...group.top.map((t) => `  ${formatConfiguration(t.configuration)} -> ${value(t.value)}`),
    ...group.failures.map(
      (f) => `  ${formatConfiguration(f.configuration)} -> FAILED: ${shortError(f.error)}`,
    ),
  ];
}

/**
 * The summary as compact text for an LLM prompt: a header, the notation legend, then per
 * layer count (ascending) one line of count/best/median/worst followed by its best
 * configurations (`[64 relu d0.1 | 32 tanh bn] adam lr=1e-3 bs=32 ep=100 p=10 -> 0.962`)
 * and its newest failures with the error shortened.
 */
export function summaryText(summary: HistorySummary): string {
  const goal = `${summary.metric}, ${summary.direction === 'maximize' ? 'higher' : 'lower'} is better`;
  const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped (invalid configuration)` : '';
  if (summary.total === 0) return `No earlier configurations (${goal}${skipped}).`;
  const best = summary.overallBest
    ? `best ${value(summary.overallBest.value)} with ${plural(summary.overallBest.layerCount, 'layer')}`
    : 'nothing succeeded yet';
  const runs = `${plural(summary.total, 'run')}, ${summary.succeeded} ok, ${summary.failed} failed`;
  const header = `Earlier configurations (${goal}): ${runs}${skipped}; ${best}.`;
  return [header, CONFIGURATION_NOTATION, ...summary.groups.flatMap(groupLines)].join('\n');
}
