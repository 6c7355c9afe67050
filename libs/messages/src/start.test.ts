import { describe, expect, it } from 'vitest';
import { InvalidMessageError } from './errors/invalid-message-error.ts';
import { DEFAULT_SPLIT, parseStartMessage } from './start.ts';

const minimal = { kpi: 'accuracy>=0.97', dataset: 'builtin:breast-cancer' };

function errorOf(input: unknown): InvalidMessageError {
  try {
    parseStartMessage(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidMessageError);
    return err as InvalidMessageError;
  }
  throw new Error('expected the start message to be rejected');
}

describe('start message', () => {
  it('accepts the example from the design and fills the defaults', () => {
    const start = parseStartMessage(
      '{"type":"ADAPTIVE_PIPELINE_START","kpi":{"metric":"accuracy","target":0.97},' +
        '"dataset":{"uri":"builtin:breast-cancer"},"budget":{"maxIterations":20}}',
    );
    expect(start).toEqual({
      type: 'ADAPTIVE_PIPELINE_START',
      kpi: { metric: 'accuracy', target: 0.97 },
      dataset: { uri: 'builtin:breast-cancer' },
      budget: { maxIterations: 20, maxConsecutiveFailures: 5 },
      strategy: 'auto',
      seed: 42,
      split: DEFAULT_SPLIT,
      parallelism: 1,
    });
  });

  it('accepts shorthands: a KPI string and a dataset string', () => {
    const start = parseStartMessage(minimal);
    expect(start.kpi).toEqual({ metric: 'accuracy', target: 0.97 });
    expect(start.dataset).toEqual({ uri: 'builtin:breast-cancer' });
    expect(start.budget.maxIterations).toBe(20);
  });

  it.each([
    ['accuracy>=0.97', { metric: 'accuracy', target: 0.97 }],
    [' F1 >= .9 ', { metric: 'f1', target: 0.9 }],
    ['auc>=0.99', { metric: 'roc_auc', target: 0.99 }],
    ['rmse<=42.5', { metric: 'rmse', target: 42.5 }],
    ['mae < 3e1', { metric: 'mae', target: 30 }],
    ['r2>=0.4', { metric: 'r2', target: 0.4 }],
    ['precision>0.8', { metric: 'precision', target: 0.8 }],
    ['recall>=1', { metric: 'recall', target: 1 }],
  ])('reads the KPI %j', (kpi, expected) => {
    expect(parseStartMessage({ ...minimal, kpi }).kpi).toEqual(expected);
  });

  it.each([
    ['accuracy=0.97', /kpi: expected "<metric>>=<target>"/],
    ['accuracy>=', /kpi: expected/],
    ['speed>=3', /kpi: unknown metric "speed"/],
    ['rmse>=10', /kpi: rmse is minimised, so write "rmse<=10"/],
    ['accuracy<=0.5', /kpi: accuracy is maximised, so write "accuracy>=0.5"/],
    ['accuracy>=1.5', /kpi.target: accuracy target must lie in \[0, 1\] \(got 1.5\)/],
    ['rmse<=-1', /kpi.target: rmse target must lie in \[0, ∞\]/],
  ])('rejects the KPI %j naming the problem', (kpi, message) => {
    expect(errorOf({ ...minimal, kpi }).message).toMatch(message);
  });

  it('rejects a KPI object with an unknown metric or a non-numeric target', () => {
    expect(errorOf({ ...minimal, kpi: { metric: 'speed', target: 1 } }).message).toMatch(/kpi/);
    expect(errorOf({ ...minimal, kpi: { metric: 'accuracy', target: 'high' } }).message).toMatch(/kpi/);
    expect(errorOf({ ...minimal, kpi: 0.97 }).message).toMatch(/kpi: expected \{"metric","target"\}/);
  });

  it('requires kpi and dataset', () => {
    expect(errorOf({ dataset: 'builtin:iris' }).message).toMatch(/kpi/);
    expect(errorOf({ kpi: 'accuracy>=0.9' }).message).toMatch(/dataset/);
    expect(errorOf({ ...minimal, dataset: { uri: '' } }).message).toMatch(/dataset/);
  });

  it('takes a target column with the dataset', () => {
    expect(parseStartMessage({ ...minimal, dataset: { uri: './churn.csv', target: 'churned' } }).dataset).toEqual({
      uri: './churn.csv',
      target: 'churned',
    });
  });

  it('checks every budget field', () => {
    const budget = { maxIterations: 7, maxMinutes: 30, maxConsecutiveFailures: 2, maxLlmTokens: 100000 };
    expect(parseStartMessage({ ...minimal, budget }).budget).toEqual(budget);
    expect(errorOf({ ...minimal, budget: { maxIterations: 0 } }).message).toMatch(/budget.maxIterations.*\(got 0\)/);
    expect(errorOf({ ...minimal, budget: { maxIterations: 2.5 } }).message).toMatch(/budget.maxIterations/);
    expect(errorOf({ ...minimal, budget: { maxMinutes: -1 } }).message).toMatch(/budget.maxMinutes/);
    expect(errorOf({ ...minimal, budget: { maxConsecutiveFailures: 0 } }).message).toMatch(/budget.maxConsecutiveFailures/);
    expect(errorOf({ ...minimal, budget: { maxLlmTokens: -5 } }).message).toMatch(/budget.maxLlmTokens/);
    expect(errorOf({ ...minimal, budget: { maxIteration: 5 } }).message).toMatch(/budget: unknown field "maxIteration"/);
  });

  it('checks strategy, task, seed, split, parallelism, requestId and schedule', () => {
    const start = parseStartMessage({
      ...minimal,
      strategy: 'tpe',
      task: 'classification',
      seed: 7,
      split: { train: 0.6, validation: 0.2, test: 0.2 },
      parallelism: 2,
      requestId: 'nightly-2026-12-02',
      schedule: 'nightly',
    });
    expect(start).toMatchObject({ strategy: 'tpe', task: 'classification', seed: 7, parallelism: 2, requestId: 'nightly-2026-12-02', schedule: 'nightly' });
    expect(errorOf({ ...minimal, strategy: 'genetic' }).message).toMatch(/strategy.*\(got "genetic"\)/);
    expect(errorOf({ ...minimal, task: 'clustering' }).message).toMatch(/task/);
    expect(errorOf({ ...minimal, task: 'regression' }).message).toMatch(/task: "regression" does not fit kpi.metric "accuracy"/);
    expect(errorOf({ ...minimal, seed: -1 }).message).toMatch(/seed/);
    expect(errorOf({ ...minimal, split: { train: 0.8, validation: 0.15, test: 0.15 } }).message).toMatch(/split: train \+ validation \+ test must add up to 1/);
    expect(errorOf({ ...minimal, parallelism: 0 }).message).toMatch(/parallelism/);
    expect(errorOf({ ...minimal, requestId: '' }).message).toMatch(/requestId/);
    expect(errorOf({ ...minimal, schedule: '' }).message).toMatch(/schedule/);
  });

  it('rejects an unknown field and a wrong type by name', () => {
    expect(errorOf({ ...minimal, kip: 1 }).message).toMatch(/unknown field "kip"/);
    expect(errorOf({ ...minimal, type: 'GET_CONFIGURATION' }).message).toMatch(/type/);
  });

  it('rejects text that is not JSON, and values that are not objects', () => {
    expect(errorOf('{"kpi": ').message).toMatch(/not JSON/);
    expect(errorOf('[]').message).toMatch(/invalid start message/);
    expect(errorOf(null).message).toMatch(/invalid start message/);
  });
});
