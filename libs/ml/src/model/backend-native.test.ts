import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseModelConfiguration } from '@apo/model-config';
import { selectBackend } from './backend.ts';
import { buildModel } from './build.ts';
import { syntheticFeatures } from './synthetic.ts';
import { trainModel } from './train.ts';

// A stand-in for @tensorflow/tfjs-node, which cannot be installed here: importing it registers
// a backend named `tensorflow` and its kernels (here: the CPU backend's, under that name).
function fakeNativeModules(installed: string[]) {
  const requested: string[] = [];
  const importModule = async (name: string) => {
    requested.push(name);
    if (!installed.includes(name)) throw new Error(`Cannot find package '${name}'`);
    if (tf.findBackendFactory('tensorflow') === null) {
      tf.registerBackend('tensorflow', tf.findBackendFactory('cpu')!);
      for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
    }
    return {};
  };
  return { importModule, requested };
}

describe('selectBackend with a native package installed', () => {
  it('falls back from the GPU package to @tensorflow/tfjs-node, and trains there', async () => {
    const { importModule, requested } = fakeNativeModules(['@tensorflow/tfjs-node']);
    const backend = await selectBackend({ importModule });
    expect(requested).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(backend).toMatchObject({ name: 'tensorflow', tfBackend: 'tensorflow', fastMatMul: false, fusedAdam: false });

    const features = syntheticFeatures({
      task: 'classification',
      featureCount: 4,
      classCount: 2,
      rows: { train: 64, validation: 16, test: 0 },
      seed: 1,
    });
    const config = parseModelConfiguration({
      hiddenLayers: [{ units: 8, activation: 'relu' }],
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 16,
      maxEpochs: 2,
      patience: 2,
    });
    const report = await trainModel(buildModel(config, features, { seed: 1 }), config, features, { seed: 1 });
    expect(report.backend).toBe('tensorflow');
  });
});
