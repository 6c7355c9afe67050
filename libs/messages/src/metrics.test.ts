import { describe, expect, it } from 'vitest';
import { METRICS, isBetter, meetsTarget } from './metrics.ts';
import { toWireError, isRetryable } from './errors/wire.ts';
import { InvalidInputError } from './errors/invalid-input-error.ts';
import { TransientError } from './errors/transient-error.ts';
import { PipelineError } from './errors/pipeline-error.ts';

describe('metrics', () => {
  it('know their task and direction', () => {
    expect(Object.fromEntries(Object.entries(METRICS).map(([k, v]) => [k, `${v.task}/${v.direction}`]))).toEqual({
      accuracy: 'classification/maximize',
      f1: 'classification/maximize',
      precision: 'classification/maximize',
      recall: 'classification/maximize',
      roc_auc: 'classification/maximize',
      rmse: 'regression/minimize',
      mae: 'regression/minimize',
      r2: 'regression/maximize',
    });
  });

  it('judge a target and compare values in the metric direction', () => {
    expect(meetsTarget('accuracy', 0.97, 0.97)).toBe(true);
    expect(meetsTarget('accuracy', 0.969, 0.97)).toBe(false);
    expect(meetsTarget('rmse', 40, 42.5)).toBe(true);
    expect(meetsTarget('rmse', 43, 42.5)).toBe(false);
    expect(isBetter('mae', 1, 2)).toBe(true);
    expect(isBetter('r2', 0.5, 0.4)).toBe(true);
    expect(isBetter('f1', 0.5, 0.5)).toBe(false);
  });
});

describe('errors on the wire', () => {
  it('keep the class name, code and whether a retry makes sense', () => {
    const bad = new InvalidInputError('target column "churn" not found', { details: { column: 'churn' } });
    expect(bad).toBeInstanceOf(PipelineError);
    expect(toWireError(bad)).toEqual({
      name: 'InvalidInputError',
      code: 'INVALID_INPUT',
      message: 'target column "churn" not found',
      retryable: false,
      details: { column: 'churn' },
    });
    expect(isRetryable(new TransientError('broker unavailable'))).toBe(true);
    expect(toWireError(new TypeError('x is undefined'))).toMatchObject({ name: 'TypeError', retryable: true });
    expect(toWireError('thrown string')).toMatchObject({ message: 'thrown string', retryable: true });
  });
});
