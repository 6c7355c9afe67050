import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical.ts';
import type { ModelConfigurationInput } from './schema.ts';
import { DEFAULT_TOP_K, MAX_ERROR_LENGTH, summarizeHistory, type HistoryEntry } from './summary.ts';

/** A configuration with `layers` hidden layers; `units` makes it distinguishable. */
function cfg(layers: number, units = 64): ModelConfigurationInput {
  return {
    hiddenLayers: Array.from({ length: layers }, () => ({ units, activation: 'relu' as const })),
    optimizer: 'adam',
    learningRate: 0.001,
    batchSize: 32,
    maxEpochs: 100,
  };
}

function ok(layers: number, value: number, units = 64, source?: string): HistoryEntry {
  return { configuration: cfg(layers, units), status: 'succeeded', value, ...(source ? { source } : {}) };
}

function failed(layers: number, error: string, units = 64): HistoryEntry {
  return { configuration: cfg(layers, units), status: 'failed', error };
}

const maximize = { metric: 'accuracy', direction: 'maximize' } as const;
const minimize = { metric: 'rmse', direction: 'minimize' } as const;

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length / 2;
  return s.length % 2 ? (s[Math.floor(m)] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function hasNestedArray(value: unknown): boolean {
  if (Array.isArray(value)) return value.some((v) => Array.isArray(v) || hasNestedArray(v));
  if (value && typeof value === 'object') return Object.values(value).some(hasNestedArray);
  return false;
}

function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value && typeof value === 'object') return Object.values(value).some(hasNonFinite);
  return false;
}

describe('summarizeHistory', () => {
  it('groups by layer count, ascending, whatever the order of the entries', () => {
    const entries = [ok(3, 0.8), ok(1, 0.7), ok(3, 0.85), failed(2, 'oom'), ok(1, 0.75)];
    const summary = summarizeHistory(entries, maximize);
    expect(summary.groups.map((g) => [g.layerCount, g.count])).toEqual([
      [1, 2],
      [2, 1],
      [3, 2],
    ]);
    expect(summary).toMatchObject({ metric: 'accuracy', total: 5, succeeded: 4, failed: 1 });
    for (const group of summary.groups) {
      expect(group.succeeded + group.failed).toBe(group.count);
      for (const item of [...group.top, ...group.failures]) {
        expect(item.configuration.hiddenLayers).toHaveLength(group.layerCount);
      }
    }
  });

  it.each([
    ['odd', [0.7, 0.9, 0.8]],
    ['even', [0.6, 0.9, 0.7, 0.8]],
  ])('takes the median of an %s number of results', (_kind, values) => {
    const [group] = summarizeHistory(
      values.map((v) => ok(2, v)),
      maximize,
    ).groups;
    expect(group?.median).toBeCloseTo(medianOf(values), 12);
    expect(group?.best).toBe(Math.max(...values));
    expect(group?.worst).toBe(Math.min(...values));
  });

  it('ranks best first by the direction of the metric', () => {
    const entries = [ok(1, 0.3, 8), ok(1, 0.1, 16), ok(1, 0.2, 32), ok(2, 0.05, 8), ok(2, 0.4, 16)];
    const low = summarizeHistory(entries, minimize);
    expect(low.groups[0]?.top.map((t) => t.value)).toEqual([0.1, 0.2, 0.3]);
    expect([low.groups[0]?.best, low.groups[0]?.worst]).toEqual([0.1, 0.3]);
    expect(low.overallBest).toEqual({ layerCount: 2, value: 0.05, configuration: canonicalize(cfg(2, 8)) });

    const high = summarizeHistory(entries, maximize);
    expect(high.groups[0]?.top.map((t) => t.value)).toEqual([0.3, 0.2, 0.1]);
    expect(high.overallBest).toEqual({ layerCount: 2, value: 0.4, configuration: canonicalize(cfg(2, 16)) });
  });

  it('counts failures but keeps them out of best, median and worst', () => {
    const entries = [ok(1, 0.8), failed(1, 'out of memory'), ok(1, 0.6), failed(2, 'nan loss')];
    const summary = summarizeHistory(entries, maximize);
    const [one, two] = summary.groups;
    expect(one).toMatchObject({ count: 3, succeeded: 2, failed: 1, best: 0.8, median: 0.7, worst: 0.6 });
    expect(one?.failures).toEqual([{ error: 'out of memory', configuration: canonicalize(cfg(1)) }]);
    expect(two).toMatchObject({ count: 1, succeeded: 0, failed: 1, top: [] });
    expect([two?.best, two?.median, two?.worst]).toEqual([null, null, null]);
    expect(summary.overallBest?.value).toBe(0.8);
  });

  it('treats a success without a finite metric as a failure', () => {
    const summary = summarizeHistory(
      [
        { configuration: cfg(1), status: 'succeeded', value: Number.NaN },
        { configuration: cfg(1), status: 'succeeded' },
      ],
      maximize,
    );
    expect(summary).toMatchObject({ succeeded: 0, failed: 2, overallBest: null });
    expect(summary.groups[0]?.failures.map((f) => f.error)).toEqual([
      'no finite accuracy value (got undefined)',
      'no finite accuracy value (got NaN)',
    ]);
  });

  it('keeps the top k results and the k newest failures', () => {
    const entries = [
      ...[0.1, 0.5, 0.3, 0.9, 0.7].map((v, i) => ok(1, v, 8 * (i + 1))),
      ...['first', 'second', 'third', 'fourth'].map((e) => failed(1, e)),
    ];
    const byDefault = summarizeHistory(entries, maximize).groups[0];
    expect(byDefault?.top.map((t) => t.value)).toEqual([0.9, 0.7, 0.5].slice(0, DEFAULT_TOP_K));
    expect(byDefault?.failures.map((f) => f.error)).toEqual(['fourth', 'third', 'second']);
    expect(byDefault?.count).toBe(9);

    const one = summarizeHistory(entries, { ...maximize, topK: 1 }).groups[0];
    expect(one?.top.map((t) => t.value)).toEqual([0.9]);
    expect(one?.failures.map((f) => f.error)).toEqual(['fourth']);

    const none = summarizeHistory(entries, { ...maximize, topK: 0 });
    expect(none.groups[0]).toMatchObject({ top: [], failures: [], best: 0.9 });
    expect(none.overallBest?.value).toBe(0.9);
  });

  it('rejects a topK that is not a non-negative integer', () => {
    expect(() => summarizeHistory([], { ...maximize, topK: -1 })).toThrow(RangeError);
    expect(() => summarizeHistory([], { ...maximize, topK: 1.5 })).toThrow(RangeError);
  });

  it('keeps the source of a ranked configuration and shows configurations in canonical form', () => {
    const [top] = summarizeHistory([ok(1, 0.9, 64, 'llm')], maximize).groups[0]?.top ?? [];
    expect(top).toEqual({ value: 0.9, source: 'llm', configuration: canonicalize(cfg(1)) });
    expect(top?.configuration.hiddenLayers[0]?.dropout).toBe(0);
    const [anonymous] = summarizeHistory([ok(1, 0.9)], maximize).groups[0]?.top ?? [];
    expect(anonymous).not.toHaveProperty('source');
  });

  it('skips entries whose configuration is invalid, counting them', () => {
    const summary = summarizeHistory(
      [
        ok(1, 0.9),
        { configuration: { ...cfg(1), batchSize: 4096 }, status: 'succeeded', value: 0.99 },
        { configuration: 'x', status: 'failed' },
      ],
      maximize,
    );
    expect(summary).toMatchObject({ total: 1, skipped: 2, succeeded: 1 });
    expect(summary.overallBest?.value).toBe(0.9);
  });

  it('shortens a long error', () => {
    const error = 'x'.repeat(MAX_ERROR_LENGTH * 3);
    const [failure] = summarizeHistory([failed(1, error)], maximize).groups[0]?.failures ?? [];
    expect(failure?.error.length).toBe(MAX_ERROR_LENGTH);
    expect(error.startsWith(failure?.error.slice(0, -1) ?? '?')).toBe(true);
  });

  it('summarises an empty history', () => {
    expect(summarizeHistory([], minimize)).toEqual({
      metric: 'rmse',
      direction: 'minimize',
      total: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      overallBest: null,
      groups: [],
    });
  });

  it('is a valid MongoDB document: survives JSON, no nested arrays, only finite numbers', () => {
    const summary = summarizeHistory(
      [
        ok(1, 0.7, 64, 'tpe'),
        ok(2, 0.8),
        failed(2, 'boom'),
        { configuration: cfg(3), status: 'succeeded', value: Number.POSITIVE_INFINITY },
        { configuration: cfg(3), status: 'failed' },
      ],
      maximize,
    );
    // The checks themselves must be able to fail.
    expect(hasNestedArray({ a: [{ b: [[1]] }] })).toBe(true);
    expect(hasNonFinite({ a: [{ b: Number.NaN }] })).toBe(true);
    expect(JSON.parse(JSON.stringify(summary))).toStrictEqual(summary);
    expect(hasNestedArray(summary)).toBe(false);
    expect(hasNonFinite(summary)).toBe(false);
  });
});
