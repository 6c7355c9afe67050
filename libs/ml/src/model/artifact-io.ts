import * as tf from '@tensorflow/tfjs';
import type { ArtifactStore } from '@apo/artifacts';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/**
 * Saves a model to the artifact store as TensorFlow.js's layers format: `<keyPrefix>/model.json`
 * (topology and a weights manifest) and `<keyPrefix>/weights.bin` (all weights, raw float32).
 * Returns the URI of `model.json`, which `loadModel` takes. The training configuration is left
 * out: a saved model is for prediction; its configuration is stored with its results.
 */
export async function saveModel(model: tf.LayersModel, artifacts: ArtifactStore, keyPrefix: string): Promise<string> {
  let modelUri: string | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      if (saved.modelTopology === undefined || saved.weightSpecs === undefined || saved.weightData === undefined) {
        throw new Error('TensorFlow.js gave the save handler no topology or weights');
      }
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData));
      // Weights first: a model.json that exists always has its weights.
      await artifacts.put(`${keyPrefix}/${WEIGHTS_FILE}`, weights);
      const json: tf.io.ModelJSON = {
        modelTopology: saved.modelTopology as tf.io.ModelJSON['modelTopology'],
        format: saved.format ?? 'layers-model',
        generatedBy: saved.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
      };
      modelUri = await artifacts.put(`${keyPrefix}/${MODEL_FILE}`, new TextEncoder().encode(JSON.stringify(json)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(saved) };
    }),
  );
  return modelUri!;
}

/**
 * Loads a model saved by `saveModel` (or any TensorFlow.js layers model whose weight files sit
 * next to its `model.json` in the same store).
 */
export async function loadModel(artifacts: ArtifactStore, modelUri: string): Promise<tf.LayersModel> {
  const handler: tf.io.IOHandler = {
    load: async () => {
      const json = JSON.parse((await artifacts.get(modelUri)).toString('utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const parts: ArrayBuffer[] = [];
        for (const path of manifest.flatMap((group) => group.paths)) {
          const bytes = await artifacts.get(siblingUri(modelUri, path));
          parts.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
        }
        return [specs, tf.io.CompositeArrayBuffer.join(parts)];
      });
    },
  };
  return tf.loadLayersModel(handler);
}

// Weight paths in a manifest are relative to model.json, as TensorFlow.js writes them; store
// URIs end with the artifact key, so the sibling is the URI with its last segment replaced.
function siblingUri(modelUri: string, path: string): string {
  return modelUri.slice(0, modelUri.lastIndexOf('/') + 1) + path;
}
