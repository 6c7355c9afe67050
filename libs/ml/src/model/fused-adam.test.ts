import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { FusedAdamOptimizer } from './fused-adam.ts';

beforeAll(async () => {
  await selectBackend();
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('FusedAdamOptimizer', () => {
  // The CPU backend is switched to directly: selectBackend keeps one backend per process.
  it.each(['wasm', 'cpu'])('computes the very weights tf.train.adam computes on %s', async (backend) => {
    await tf.setBackend(backend);
    // Sizes that are and are not multiples of the four SIMD lanes.
    const shapes = [[16, 8], [8], [300, 64], [3], [5, 7]];
    const initial = shapes.map((shape, i) => tf.randomNormal(shape, 0, 1, 'float32', i + 1));
    const train = (optimizer: tf.Optimizer, prefix: string) => {
      const variables = initial.map((t, i) => tf.variable(t.clone(), true, `${prefix}${backend}${i}`));
      for (let step = 0; step < 25; step++) {
        // Every fifth step tiny gradients, where Adam's ε matters.
        const scale = step % 5 === 4 ? 1e-7 : 1;
        const gradients = shapes.map((shape, i) => tf.randomNormal(shape, 0, scale, 'float32', 100 * step + i + 1));
        optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: gradients[i]! })));
        tf.dispose(gradients);
      }
      optimizer.dispose();
      const values = variables.map((v) => Array.from(v.dataSync()));
      tf.dispose(variables);
      return values;
    };
    const stock = train(tf.train.adam(0.01), 'stock');
    const fused = train(new FusedAdamOptimizer(0.01), 'fused');
    expect(fused).toEqual(stock);
    tf.dispose(initial);
  });
});
