import type { SplitArrays } from '../types.ts';
import type { TargetScaling } from './target-scaling.ts';

/** How targets become the tensor the loss compares against. */
export type TargetEncoding =
  | { kind: 'binary' }
  | { kind: 'one-hot'; classCount: number }
  | { kind: 'scaled'; scaling: TargetScaling };

/** One batch as flat arrays, ready to become tensors. */
export interface BatchArrays {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  targetWidth: number;
}

/** Width of the encoded target: one column, or one per class. */
export function targetWidth(encoding: TargetEncoding): number {
  return encoding.kind === 'one-hot' ? encoding.classCount : 1;
}

/**
 * Copies the rows `order[start … start+size)` of a split into a batch, encoding the targets.
 * Batches are assembled in JavaScript because slicing a large tensor on the WASM backend copies
 * the whole tensor first; a batch this size uploads in microseconds.
 */
export function gatherBatch(
  split: SplitArrays,
  featureCount: number,
  order: Int32Array | null,
  start: number,
  size: number,
  encoding: TargetEncoding,
): BatchArrays {
  const width = targetWidth(encoding);
  const x = new Float32Array(size * featureCount);
  const y = new Float32Array(size * width);
  for (let i = 0; i < size; i++) {
    const row = order === null ? start + i : order[start + i]!;
    x.set(split.x.subarray(row * featureCount, (row + 1) * featureCount), i * featureCount);
    const target = split.y[row]!;
    if (encoding.kind === 'one-hot') y[i * width + target] = 1;
    else if (encoding.kind === 'scaled') y[i] = (target - encoding.scaling.mean) / encoding.scaling.std;
    else y[i] = target;
  }
  return { x, y, rows: size, targetWidth: width };
}
