import { describe, expect, it } from 'vitest';
import { classificationMetrics, regressionMetrics } from './metrics.ts';

describe('classificationMetrics', () => {
  it('scores a binary example worked out by hand', () => {
    // probabilities ≥ 0.5 predict class 1: predicted = [1, 0, 0, 1, 0, 1]
    // confusion (row = true): true 0 → [2, 1], true 1 → [1, 2]; accuracy 4/6
    // class 0: precision 2/3, recall 2/3; class 1: precision 2/3, recall 2/3 → macro 2/3 each
    // AUC: positives {0.9, 0.35, 0.8} vs negatives {0.4, 0.1, 0.6}: pairs won 3 + 1 + 3 = 7 of 9
    const m = classificationMetrics([1, 0, 1, 1, 0, 0], [0.9, 0.4, 0.35, 0.8, 0.1, 0.6], 2);
    expect(m.confusionMatrix).toEqual({ size: 2, values: [2, 1, 1, 2] });
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.roc_auc).toBeCloseTo(7 / 9, 12);
  });

  it('counts tied scores as half a win in the ROC AUC', () => {
    // positives {0.5, 0.8} vs negatives {0.5, 0.2}: 0.5~0.5 tie ½, 0.5>0.2, 0.8>0.5, 0.8>0.2 → 3.5/4
    expect(classificationMetrics([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.8], 2).roc_auc).toBeCloseTo(0.875, 12);
  });

  it('leaves the ROC AUC out when only one class occurs', () => {
    expect(classificationMetrics([1, 1], [0.7, 0.2], 2).roc_auc).toBeUndefined();
  });

  it('macro-averages three classes worked out by hand', () => {
    // predicted = [0, 2, 2, 1, 1, 0]; confusion rows: [2,0,0], [0,1,1], [0,1,1]; accuracy 4/6
    // class 0: P 2/2, R 2/2, F1 1; class 1: P 1/2, R 1/2, F1 ½; class 2: P 1/2, R 1/2, F1 ½
    // macro P = R = F1 = (1 + ½ + ½) / 3 = 2/3
    const probabilities = [
      [0.7, 0.2, 0.1],
      [0.1, 0.3, 0.6],
      [0.2, 0.2, 0.6],
      [0.1, 0.8, 0.1],
      [0.2, 0.5, 0.3],
      [0.6, 0.3, 0.1],
    ].flat();
    const m = classificationMetrics(Int32Array.from([0, 1, 2, 2, 1, 0]), probabilities, 3);
    expect(m.confusionMatrix).toEqual({ size: 3, values: [2, 0, 0, 0, 1, 1, 0, 1, 1] });
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.roc_auc).toBeUndefined();
  });

  it('leaves a class that never occurs and is never predicted out of the averages', () => {
    // classes 0 and 1 all right; class 2 absent from both sides → macro over two classes = 1
    const m = classificationMetrics([0, 1, 0, 1], [0.9, 0.05, 0.05, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1, 0.2, 0.7, 0.1], 3);
    expect(m).toMatchObject({ accuracy: 1, precision: 1, recall: 1, f1: 1 });
  });

  it('rejects a label outside the classes', () => {
    expect(() => classificationMetrics([2], [0.3], 2)).toThrow(RangeError);
  });
});

describe('regressionMetrics', () => {
  it('scores an example worked out by hand', () => {
    // errors 0.5, −0.5, 0, −1 → squares 0.25, 0.25, 0, 1 (sum 1.5) → RMSE √0.375, MAE 2/4
    // mean 2.875 → total sum of squares 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
    // R² = 1 − 1.5 / 29.1875
    const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.r2).toBeCloseTo(1 - 1.5 / 29.1875, 12);
  });

  it('reports R² 0 for a constant target instead of a division by zero', () => {
    expect(regressionMetrics([4, 4], [3, 5]).r2).toBe(0);
  });
});
