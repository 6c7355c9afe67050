import { canonicalize, type ModelConfiguration } from '@apo/model-config';
import { describe, expect, it } from 'vitest';
import type { TrialRecord } from './proposer.ts';
import { firstNew, TriedConfigurations } from './tried.ts';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';

const base: ModelConfiguration = canonicalize({
  hiddenLayers: [{ units: 64, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
});

const variant = (changes: Partial<ModelConfiguration>): ModelConfiguration => canonicalize({ ...base, ...changes });

describe('TriedConfigurations', () => {
  it('knows exact and near repeats, not real changes', () => {
    const tried = new TriedConfigurations([{ configuration: base, status: 'succeeded', value: 0.9 }]);
    expect(tried.has(base)).toBe(true);
    expect(tried.has(variant({ learningRate: 0.0011 }))).toBe(true);
    expect(tried.has(variant({ learningRate: 0.01 }))).toBe(false);
    expect(tried.has(variant({ optimizer: 'sgd' }))).toBe(false);
    expect(tried.has(variant({ hiddenLayers: [...base.hiddenLayers, ...base.hiddenLayers] }))).toBe(false);
  });

  it('skips entries invalid under the schema and treats non-finite values as failures', () => {
    const history = [
      { configuration: { ...base, batchSize: 4096 }, status: 'succeeded', value: 0.99 },
      { configuration: base, status: 'succeeded', value: Number.NaN },
      { configuration: variant({ batchSize: 64 }), status: 'succeeded', value: 0.8 },
    ] as TrialRecord[];
    const tried = new TriedConfigurations(history);
    expect(tried.skipped).toBe(1);
    expect(tried.trials.map((t) => t.value)).toEqual([undefined, 0.8]);
  });
});

describe('firstNew', () => {
  it('takes the first untried candidate and counts the attempts', () => {
    const tried = new TriedConfigurations([{ configuration: base, status: 'failed' }]);
    const result = firstNew([base, variant({ learningRate: 0.00105 }), variant({ batchSize: 256 })], tried, {
      proposer: 'test',
      maxAttempts: 10,
    });
    expect(result).toEqual({ configuration: variant({ batchSize: 256 }), attempts: 3 });
  });

  it('gives up with a non-retryable SearchSpaceExhaustedError', () => {
    const tried = new TriedConfigurations([{ configuration: base, status: 'failed' }]);
    const endless = (function* () {
      for (;;) yield base;
    })();
    let error: unknown;
    try {
      firstNew(endless, tried, { proposer: 'test', maxAttempts: 5 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SearchSpaceExhaustedError);
    expect(error).toMatchObject({ retryable: false, code: 'SEARCH_SPACE_EXHAUSTED', details: { attempts: 5 } });
  });
});
