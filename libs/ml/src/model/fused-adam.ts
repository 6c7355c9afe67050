import * as tf from '@tensorflow/tfjs';
import { SimdAdam, type AdamConstants } from './adam-simd.ts';

// Hand-written, because no library does it for TensorFlow.js. tf.train.adam runs 14 kernels per
// variable per step, plus a scalar tensor for every constant. On WASM and CPU each kernel costs
// microseconds of JavaScript bookkeeping and a full pass over memory (its Sqrt is not even
// vectorised), which made Adam a quarter of a training step. This optimizer performs the same
// update in one WebAssembly SIMD pass per variable (`adam-simd.ts`), keeping the moments there.
// The arithmetic is tf.train.adam's, operation for operation in float32,
//   m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²,
//   w ← w + (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε) · (−lr),
// with β1ᵗ accumulated in float32 and ε = 1e-7, so the weights are bit for bit tfjs's (tested).
// It reads tensors back synchronously, a copy on WASM and CPU but a device sync on the native
// backends: use it on the former only.

const f32 = Math.fround;

/** Adam for the WASM and CPU backends: tf.train.adam's results, in one pass per variable. */
export class FusedAdamOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'FusedAdam';
  }

  /** Whether this runtime has the WebAssembly SIMD the optimizer runs on. */
  static isSupported(): boolean {
    return SimdAdam.isSupported();
  }

  private readonly simd: SimdAdam;
  private beta1Power: number;
  private beta2Power: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-7,
  ) {
    super();
    const simd = SimdAdam.create();
    if (simd === undefined) throw new Error('WebAssembly SIMD is not available in this runtime');
    this.simd = simd;
    this.beta1Power = f32(beta1);
    this.beta2Power = f32(beta2);
  }

  override applyGradients(gradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const list = Array.isArray(gradients)
      ? gradients
      : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
    const constants: AdamConstants = {
      beta1: f32(this.beta1),
      beta2: f32(this.beta2),
      keep1: f32(1 - this.beta1),
      keep2: f32(1 - this.beta2),
      correction1: f32(1 - this.beta1Power),
      correction2: f32(1 - this.beta2Power),
      epsilon: f32(this.epsilon),
      negativeRate: f32(-this.learningRate),
    };
    const heap = heapReader();
    for (const { name, tensor } of list) {
      const variable = tf.engine().registeredVariables[name];
      if (variable === undefined || tensor == null) continue;
      const next = this.simd.step(name, heap.read(variable), heap.read(tensor), constants);
      // A new tensor, not an in-place write: the WASM backend caches packed weights per tensor.
      const updated = tf.tensor(heap.copies ? next : next.slice(), variable.shape, 'float32');
      variable.assign(updated);
      updated.dispose();
    }
    this.beta1Power = f32(this.beta1Power * constants.beta1);
    this.beta2Power = f32(this.beta2Power * constants.beta2);
    this.incrementIterations();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Reads tensor values without a copy where the backend allows it. The WASM backend can hand out
 * a view of its heap and copies whatever a new tensor is made from; the CPU backend's `dataSync`
 * returns its own storage and keeps the array a tensor is made from, so that one needs a copy.
 */
function heapReader(): { read(t: tf.Tensor): Float32Array; copies: boolean } {
  const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
  const view = backend.typedArrayFromHeap?.bind(backend);
  return view
    ? { read: (t) => view(t), copies: true }
    : { read: (t) => t.dataSync() as Float32Array, copies: false };
}
