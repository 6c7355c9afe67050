/** Classification metrics of one split; F1, precision and recall are macro averages. */
export interface ClassificationMetrics {
  accuracy: number;
  f1: number;
  precision: number;
  recall: number;
  /** Binary tasks only: area under the ROC curve of the positive-class probability. */
  roc_auc?: number;
  /** Counts, row-major: row = true class, column = predicted class. */
  confusionMatrix: { size: number; values: number[] };
}

/** Regression metrics of one split. */
export interface RegressionMetrics {
  rmse: number;
  mae: number;
  r2: number;
}

/**
 * Metrics of predicted probabilities against true class indices. `probabilities` holds one
 * positive-class probability per row when `classCount` is 2, else `classCount` per row
 * (row-major). The predicted class is the most probable one (probability ≥ 0.5 for binary).
 * A class that never occurs and is never predicted is left out of the macro averages; one that
 * is predicted but never occurs counts with recall 0, as in scikit-learn's defaults but without
 * its warnings. ROC AUC ranks with ties given their average rank, and is left out when only
 * one class occurs.
 */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classCount: number,
): ClassificationMetrics {
  const n = yTrue.length;
  const predicted = predictedClasses(probabilities, n, classCount);
  const matrix = new Array<number>(classCount * classCount).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!;
    const p = predicted[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= classCount) {
      throw new RangeError(`class ${t} out of 0…${classCount - 1}`);
    }
    matrix[t * classCount + p]! += 1;
    if (t === p) correct++;
  }
  const perClass: { precision: number; recall: number; f1: number }[] = [];
  for (let c = 0; c < classCount; c++) {
    const tp = matrix[c * classCount + c]!;
    let actual = 0;
    let chosen = 0;
    for (let k = 0; k < classCount; k++) {
      actual += matrix[c * classCount + k]!;
      chosen += matrix[k * classCount + c]!;
    }
    if (actual === 0 && chosen === 0) continue;
    const precision = chosen === 0 ? 0 : tp / chosen;
    const recall = actual === 0 ? 0 : tp / actual;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ precision, recall, f1 });
  }
  const mean = (pick: (m: { precision: number; recall: number; f1: number }) => number) =>
    perClass.length === 0 ? 0 : perClass.reduce((s, m) => s + pick(m), 0) / perClass.length;
  const auc = classCount === 2 ? rocAuc(yTrue, probabilities) : undefined;
  return {
    accuracy: n === 0 ? 0 : correct / n,
    f1: mean((m) => m.f1),
    precision: mean((m) => m.precision),
    recall: mean((m) => m.recall),
    ...(auc === undefined ? {} : { roc_auc: auc }),
    confusionMatrix: { size: classCount, values: matrix },
  };
}

/**
 * Root mean squared error, mean absolute error and the coefficient of determination. R² is
 * reported as 0 when the targets do not vary (there is no variance to explain; the textbook
 * value would be undefined or −∞).
 */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = yTrue.length;
  if (yPred.length !== n) throw new RangeError(`${n} targets but ${yPred.length} predictions`);
  if (n === 0) return { rmse: 0, mae: 0, r2: 0 };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = yTrue[i]! - yPred[i]!;
    squared += e * e;
    absolute += Math.abs(e);
    total += (yTrue[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(squared / n), mae: absolute / n, r2: total === 0 ? 0 : 1 - squared / total };
}

function predictedClasses(probabilities: ArrayLike<number>, n: number, classCount: number): Int32Array {
  const width = classCount === 2 ? 1 : classCount;
  if (probabilities.length !== n * width) {
    throw new RangeError(`${n} rows need ${n * width} probabilities, got ${probabilities.length}`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (classCount === 2) {
      out[i] = probabilities[i]! >= 0.5 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < classCount; c++) {
      if (probabilities[i * classCount + c]! > probabilities[i * classCount + best]!) best = c;
    }
    out[i] = best;
  }
  return out;
}

/** Mann–Whitney form of the AUC: P(score of a positive > score of a negative), ties count ½. */
function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number | undefined {
  const n = yTrue.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (yTrue[order[k]!] === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return undefined;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
