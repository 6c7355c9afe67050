import { describe, expect, it } from 'vitest';
import { assertStorableDocument, findDocumentViolation } from './document-rules.ts';
import { InvalidRecordError } from './errors/invalid-record-error.ts';

describe('document rules', () => {
  it('accept plain JSON, flat matrices and undefined properties (absent, as in JSON)', () => {
    expect(
      findDocumentViolation({
        metrics: { accuracy: 0.9, confusionMatrix: { size: 2, values: [1, 2, 3, 4] } },
        layers: [{ units: 8 }, 'x', 1, true, null],
        'key with spaces': { 'dash-key': -1e308 },
        skipped: undefined,
      }),
    ).toBeNull();
  });

  it.each([
    [{ a: { b: Number.NaN } }, 'a.b', /NaN/],
    [{ a: [1, Number.POSITIVE_INFINITY] }, 'a[1]', /Infinity/],
    [{ a: Number.NEGATIVE_INFINITY }, 'a', /-Infinity/],
    [{ m: { values: [[1, 2]] } }, 'm.values[0]', /array directly inside an array/],
    [{ s: { 'a.b': 1 } }, 's["a.b"]', /"\."/],
    [{ s: [{ $set: 1 }] }, 's[0]["$set"]', /"\$"/],
    [{ s: { 'a\u0000b': 1 } }, 's["a\\u0000b"]', /NUL/],
    [{ at: new Date(0) }, 'at', /Date/],
    [{ m: new Map() }, 'm', /Map/],
    [{ n: 1n }, 'n', /bigint/],
    [{ list: [undefined] }, 'list[0]', /undefined/],
  ])('refuse %o at %s', (record, path, reason) => {
    const violation = findDocumentViolation(record);
    expect(violation?.path).toBe(path);
    expect(violation?.reason).toMatch(reason);
  });

  it('refuse a circular reference instead of recursing forever', () => {
    const state: Record<string, unknown> = {};
    state['self'] = { back: state };
    expect(findDocumentViolation({ state })).toEqual({ path: 'state.self.back', reason: 'is a circular reference' });
  });

  it('accept the same object twice when it is not its own ancestor', () => {
    const shared = { a: 1 };
    expect(findDocumentViolation({ x: shared, y: [shared] })).toBeNull();
  });

  it('throw a non-retryable InvalidRecordError naming collection and path', () => {
    let caught: unknown;
    try {
      assertStorableDocument('results', { validation: { loss: Number.NaN } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidRecordError);
    const error = caught as InvalidRecordError;
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('INVALID_RECORD');
    expect(error.details).toMatchObject({ collection: 'results', path: 'validation.loss' });
    expect(error.message).toBe('results: validation.loss is NaN; documents hold only finite numbers');
  });
});
