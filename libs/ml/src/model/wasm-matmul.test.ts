import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfiguration } from '@apo/model-config';
import { selectBackend } from './backend.ts';
import { buildModel } from './build.ts';
import { syntheticFeatures } from './synthetic.ts';
import { trainModel } from './train.ts';
import { installFastWasmMatMul, isFastWasmMatMulInstalled, uninstallFastWasmMatMul } from './wasm-matmul.ts';

function withStockKernel<T>(f: () => T): T {
  uninstallFastWasmMatMul();
  try {
    return f();
  } finally {
    installFastWasmMatMul();
  }
}

/** Largest difference relative to the largest magnitude: summation order differs, values not. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return diff / scale;
}

beforeAll(async () => {
  expect((await selectBackend()).fastMatMul).toBe(true);
});

afterEach(() => {
  expect(isFastWasmMatMulInstalled()).toBe(true);
});

describe('routed WASM BatchMatMul', () => {
  // (m, k, n): the first is like a backward-pass dX (wide weights, the swapped form), the second
  // like dW (the direct form), the third odd sizes.
  const shapes = [
    [32, 64, 96],
    [96, 32, 64],
    [5, 7, 3],
  ] as const;
  const combinations = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const;

  it.each(combinations)('computes the stock products with transposeA=%s, transposeB=%s', (transposeA, transposeB) => {
    for (const [m, k, n] of shapes) {
      const a = tf.randomNormal(transposeA ? [k, m] : [m, k], 0, 1, 'float32', 1);
      const b = tf.randomNormal(transposeB ? [n, k] : [k, n], 0, 1, 'float32', 2);
      const stock = withStockKernel(() => tf.matMul(a, b, transposeA, transposeB));
      const routed = tf.matMul(a, b, transposeA, transposeB);
      expect(routed.shape).toEqual([m, n]);
      expect(relativeDifference(routed.dataSync(), stock.dataSync())).toBeLessThan(1e-6);
      tf.dispose([a, b, stock, routed]);
    }
  });

  it('leaves batched products to the stock kernel, with the same results', () => {
    const a = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 3);
    const b = tf.randomNormal([3, 6, 5], 0, 1, 'float32', 4);
    const stock = withStockKernel(() => tf.matMul(a, b, false, true));
    const routed = tf.matMul(a, b, false, true);
    expect(Array.from(routed.dataSync())).toEqual(Array.from(stock.dataSync()));
    tf.dispose([a, b, stock, routed]);
  });

  it('leaves no intermediate tensors behind', () => {
    const a = tf.randomNormal([8, 16]);
    const b = tf.randomNormal([12, 16]);
    const c = tf.randomNormal([8, 12]);
    const { numTensors, numBytes } = tf.memory();
    tf.matMul(a, b, false, true).dispose();
    tf.matMul(a, c, true, false).dispose();
    tf.matMul(b, c, true, true).dispose();
    expect(tf.memory()).toMatchObject({ numTensors, numBytes });
    tf.dispose([a, b, c]);
  });

  it('reports a shape mismatch as the stock kernel does', () => {
    const a = tf.zeros([4, 5]);
    expect(() => tf.tidy(() => tf.matMul(a, a, false, true))).not.toThrow();
    expect(() => tf.matMul(a, a, true, true)).toThrow(/transposeA=true and transposeB=true/);
    a.dispose();
  });

  it('trains with the same loss curve as the stock kernels', async () => {
    const features = syntheticFeatures({
      task: 'classification',
      featureCount: 12,
      classCount: 3,
      rows: { train: 256, validation: 64, test: 0 },
      seed: 6,
    });
    const config = parseModelConfiguration({
      hiddenLayers: [
        { units: 48, activation: 'relu' },
        { units: 32, activation: 'tanh' },
      ],
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 32,
      maxEpochs: 4,
      patience: 4,
    });
    const train = async () => {
      const model = buildModel(config, features, { seed: 2 });
      return (await trainModel(model, config, features, { seed: 2 })).history;
    };
    uninstallFastWasmMatMul();
    const stock = await train().finally(installFastWasmMatMul);
    const routed = await train();
    for (const [i, epoch] of routed.entries()) {
      expect(Math.abs(epoch.loss - stock[i]!.loss) / stock[i]!.loss).toBeLessThan(1e-5);
      expect(Math.abs(epoch.valLoss - stock[i]!.valLoss) / stock[i]!.valLoss).toBeLessThan(1e-5);
    }
  });
});
