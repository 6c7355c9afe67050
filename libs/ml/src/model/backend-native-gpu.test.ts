import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';

describe('selectBackend with the GPU package installed', () => {
  it('prefers @tensorflow/tfjs-node-gpu and does not load anything else', async () => {
    const requested: string[] = [];
    const importModule = async (name: string) => {
      requested.push(name);
      // What the real package does on import: register the native backend.
      tf.registerBackend('tensorflow', tf.findBackendFactory('cpu')!);
      return {};
    };
    expect(await selectBackend({ importModule })).toMatchObject({ name: 'tensorflow-gpu', tfBackend: 'tensorflow' });
    expect(requested).toEqual(['@tensorflow/tfjs-node-gpu']);
  });
});
