import { describe, expect, it } from 'vitest';
import { formatConfiguration } from './format.ts';
import type { ModelConfigurationInput } from './schema.ts';
import { summarizeHistory, type HistoryEntry } from './summary.ts';
import { MAX_TEXT_ERROR_LENGTH, summaryText } from './summary-text.ts';

function cfg(layers: number, units = 64): ModelConfigurationInput {
  return {
    hiddenLayers: Array.from({ length: layers }, (_, i) => ({ units: units / 2 ** i, activation: 'relu' as const })),
    optimizer: 'adam',
    learningRate: 0.001,
    batchSize: 32,
    maxEpochs: 100,
  };
}

const entries: HistoryEntry[] = [
  { configuration: cfg(3, 256), status: 'succeeded', value: 0.91 },
  { configuration: cfg(1, 64), status: 'succeeded', value: 0.85 },
  { configuration: cfg(1, 128), status: 'succeeded', value: 0.88 },
  {
    configuration: cfg(2, 1024),
    status: 'failed',
    error: 'Error: OOM when allocating tensor with shape [1024, 1024] on device webgl\n    at Engine.run (engine.js:1)',
  },
  { configuration: cfg(3, 128), status: 'succeeded', value: 0.9234567 },
];

const summary = summarizeHistory(entries, { metric: 'accuracy', direction: 'maximize' });
const text = summaryText(summary);
const lines = text.split('\n');

describe('summaryText', () => {
  it('has a header line per layer count, in ascending order, with its statistics', () => {
    const headers = lines.filter((l) => /^\d+ layers?:/.test(l));
    expect(headers.map((l) => Number.parseInt(l, 10))).toEqual(summary.groups.map((g) => g.layerCount));
    expect(headers[0]).toBe('1 layer: 2 runs (2 ok, 0 failed); best 0.88, median 0.865, worst 0.85');
    expect(headers[1]).toContain('none succeeded');
  });

  it('lists the best configurations of each group under its header, best first', () => {
    const three = lines.indexOf(lines.find((l) => l.startsWith('3 layers:')) ?? '?');
    expect(lines[three + 1]).toBe(`  ${formatConfiguration(cfg(3, 128))} -> 0.9235`);
    expect(lines[three + 2]).toBe(`  ${formatConfiguration(cfg(3, 256))} -> 0.91`);
  });

  it('shows failures with the first line of their error, shortened', () => {
    const failure = lines.find((l) => l.includes('FAILED'));
    expect(failure).toContain(formatConfiguration(cfg(2, 1024)));
    const error = failure?.split('FAILED: ')[1] ?? '';
    expect(error.startsWith('Error: OOM when allocating')).toBe(true);
    expect(error.length).toBeLessThanOrEqual(MAX_TEXT_ERROR_LENGTH);
    expect(text).not.toContain('Engine.run');
  });

  it('states the overall best and which way the metric goes', () => {
    expect(lines[0]).toContain('accuracy, higher is better');
    expect(lines[0]).toContain('best 0.9235 with 3 layers');
    const minimized = summaryText(summarizeHistory(entries, { metric: 'loss', direction: 'minimize' }));
    expect(minimized.split('\n')[0]).toContain('loss, lower is better');
    expect(minimized.split('\n')[0]).toContain('best 0.85 with 1 layer');
  });

  it('keeps configuration lines short', () => {
    for (const line of lines.filter((l) => l.startsWith('  ') && !l.includes('FAILED'))) {
      expect(line.length, line).toBeLessThan(80);
    }
  });

  it('says so when there is no history', () => {
    const empty = summaryText(summarizeHistory([], { metric: 'accuracy', direction: 'maximize' }));
    expect(empty).toBe('No earlier configurations (accuracy, higher is better).');
  });
});
