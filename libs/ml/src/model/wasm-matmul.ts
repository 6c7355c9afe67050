import * as tf from '@tensorflow/tfjs';

// Hand-written, because no library does it. tfjs-backend-wasm 4.22 runs a matrix product on
// XNNPACK only when neither operand is transposed; with transposeA or transposeB it falls back
// to a scalar loop about ten times slower. Every product of a dense layer's backward pass is
// transposed (dX = dY·Wᵀ, dW = Xᵀ·dY), so training ran mostly on the slow loop. This wrapper
// computes the same product with both flags off, in one of two ways:
//   direct:  op(a) · op(b), transposing the flagged operands first;
//   swapped: (op(b)ᵀ · op(a)ᵀ)ᵀ, transposing the unflagged operands and the result.
// XNNPACK re-packs its right operand on every call with a new tensor (and the weights are new
// after every optimizer step), while the WASM transpose is a plain loop, so the cheaper way in
// moved elements is taken: for dX that is the swapped form, which packs the small dYᵀ instead
// of the large W. Products without transposes keep the stock kernel, whose packing cache helps
// inference with fixed weights; batched products too (only unbatched ones reach XNNPACK).

const KERNEL = 'BatchMatMul';
const BACKEND = 'wasm';

// Relative cost of moving one element through the WASM transpose loop vs. XNNPACK packing
// (measured on 256×256: ~6.6 ns vs ~3 ns per element).
const TRANSPOSE_COST = 2;
const PACK_COST = 1;

let stock: tf.KernelConfig | undefined;

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

function lastTwo(shape: number[]): [number, number] {
  return [shape[shape.length - 2]!, shape[shape.length - 1]!];
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function isUnbatched(shape: number[]): boolean {
  return shape.slice(0, -2).every((d) => d === 1);
}

function innerSizesMatch(a: number[], b: number[], transposeA: boolean, transposeB: boolean): boolean {
  return lastTwo(a)[transposeA ? 0 : 1] === lastTwo(b)[transposeB ? 1 : 0];
}

/** True when the swapped form moves fewer elements than the direct one. */
function preferSwapped(a: number[], b: number[], transposeA: boolean, transposeB: boolean): boolean {
  const [ar, ac] = lastTwo(a);
  const [br, bc] = lastTwo(b);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const direct = TRANSPOSE_COST * ((transposeA ? m * k : 0) + (transposeB ? k * n : 0)) + PACK_COST * k * n;
  const swapped =
    TRANSPOSE_COST * ((transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + m * n) + PACK_COST * k * m;
  return swapped < direct;
}

function routed(original: tf.KernelFunc, transpose: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as MatMulAttrs;
    const passThrough =
      (!transposeA && !transposeB) ||
      !isUnbatched(a.shape) ||
      !isUnbatched(b.shape) ||
      // The stock kernel reports the mismatch in terms of the caller's flags.
      !innerSizesMatch(a.shape, b.shape, transposeA, transposeB);
    if (passThrough) return original(args);
    const backend = args.backend as tf.KernelBackend;
    const temporaries: tf.TensorInfo[] = [];
    const flip = (x: tf.TensorInfo): tf.TensorInfo => {
      const out = transpose({ inputs: { x }, backend, attrs: { perm: swapLastTwo(x.shape.length) } });
      temporaries.push(out as tf.TensorInfo);
      return out as tf.TensorInfo;
    };
    const product = (left: tf.TensorInfo, right: tf.TensorInfo): tf.TensorInfo =>
      original({
        inputs: { a: left, b: right },
        backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
    try {
      if (!preferSwapped(a.shape, b.shape, transposeA, transposeB)) {
        return product(transposeA ? flip(a) : a, transposeB ? flip(b) : b);
      }
      const swapped = product(transposeB ? b : flip(b), transposeA ? a : flip(a));
      temporaries.push(swapped);
      const out = transpose({ inputs: { x: swapped }, backend, attrs: { perm: swapLastTwo(swapped.shape.length) } });
      return out;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

/**
 * Replaces the WASM backend's `BatchMatMul` kernel with one that routes transposed products
 * through XNNPACK (see the comment at the top of this file). Idempotent; call after the WASM
 * backend is registered. Returns false when there is no WASM `BatchMatMul` kernel to wrap.
 */
export function installFastWasmMatMul(): boolean {
  if (stock !== undefined) return true;
  const original = tf.getKernel(KERNEL, BACKEND);
  const transpose = tf.getKernel('Transpose', BACKEND);
  if (original === undefined || transpose === undefined) return false;
  tf.unregisterKernel(KERNEL, BACKEND);
  tf.registerKernel({ ...original, kernelFunc: routed(original.kernelFunc, transpose.kernelFunc) });
  stock = original;
  return true;
}

/** Puts the stock WASM `BatchMatMul` kernel back (for comparisons and tests). */
export function uninstallFastWasmMatMul(): void {
  if (stock === undefined) return;
  tf.unregisterKernel(KERNEL, BACKEND);
  tf.registerKernel(stock);
  stock = undefined;
}

/** Whether the routed `BatchMatMul` kernel is installed. */
export function isFastWasmMatMulInstalled(): boolean {
  return stock !== undefined;
}
