// Hand-written, because no library does it: Adam's update as one WebAssembly SIMD loop, four
// float32 lanes at a time. The module is assembled here from its opcodes (a few dozen bytes;
// no compiler is involved). Each lane repeats tf.train.adam's float32 operations in tf's order,
// and WebAssembly's float arithmetic is IEEE-exact, so the results are bit for bit tfjs's.

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  empty: 0x40,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
} as const;

// SIMD instructions: prefix 0xfd, then the opcode as unsigned LEB128.
const simd = {
  load: [0xfd, 0x00],
  store: [0xfd, 0x0b],
  splat: [0xfd, 0x13],
  sqrt: [0xfd, 0xe3, 0x01],
  add: [0xfd, 0xe4, 0x01],
  mul: [0xfd, 0xe6, 0x01],
  div: [0xfd, 0xe7, 0x01],
} as const;

// Parameters of `adam`: byte offsets of g, m, v, w, their length in bytes (a multiple of 16),
// then the float32 constants.
const [G_PTR, M_PTR, V_PTR, W_PTR, BYTES] = [0, 1, 2, 3, 4];
const SCALARS = ['beta1', 'beta2', 'keep1', 'keep2', 'correction1', 'correction2', 'epsilon', 'negativeRate'] as const;
const FIRST_SCALAR = 5;
// Locals after the parameters: the byte offset, one splat per scalar, then g, m, v.
const OFFSET = FIRST_SCALAR + SCALARS.length;
const splat = (name: (typeof SCALARS)[number]) => OFFSET + 1 + SCALARS.indexOf(name);
const [G, M, V] = [OFFSET + 1 + SCALARS.length, OFFSET + 2 + SCALARS.length, OFFSET + 3 + SCALARS.length];

const MEMARG = [4, 0]; // 16-byte alignment hint, no offset

function get(index: number): number[] {
  return [op.localGet, index];
}

/** The address `ptr + offset` on the stack. */
function at(ptr: number): number[] {
  return [...get(ptr), ...get(OFFSET), op.i32Add];
}

function body(): number[] {
  const code: number[] = [];
  SCALARS.forEach((name, i) => code.push(...get(FIRST_SCALAR + i), ...simd.splat, op.localSet, splat(name)));
  code.push(op.block, op.empty, op.loop, op.empty);
  code.push(...get(OFFSET), ...get(BYTES), op.i32GeU, op.brIf, 1);
  // g
  code.push(...at(G_PTR), ...simd.load, ...MEMARG, op.localSet, G);
  // m ← m·β1 + g·(1−β1)
  code.push(...at(M_PTR));
  code.push(...at(M_PTR), ...simd.load, ...MEMARG, ...get(splat('beta1')), ...simd.mul);
  code.push(...get(G), ...get(splat('keep1')), ...simd.mul, ...simd.add);
  code.push(op.localTee, M, ...simd.store, ...MEMARG);
  // v ← v·β2 + (g·g)·(1−β2)
  code.push(...at(V_PTR));
  code.push(...at(V_PTR), ...simd.load, ...MEMARG, ...get(splat('beta2')), ...simd.mul);
  code.push(...get(G), ...get(G), ...simd.mul, ...get(splat('keep2')), ...simd.mul, ...simd.add);
  code.push(op.localTee, V, ...simd.store, ...MEMARG);
  // w ← ((m / c1) / (√(v / c2) + ε)) · (−lr) + w
  code.push(...at(W_PTR));
  code.push(...get(M), ...get(splat('correction1')), ...simd.div);
  code.push(...get(V), ...get(splat('correction2')), ...simd.div, ...simd.sqrt, ...get(splat('epsilon')), ...simd.add);
  code.push(...simd.div, ...get(splat('negativeRate')), ...simd.mul);
  code.push(...at(W_PTR), ...simd.load, ...MEMARG, ...simd.add);
  code.push(...simd.store, ...MEMARG);
  // offset += 16
  code.push(...get(OFFSET), op.i32Const, 16, op.i32Add, op.localSet, OFFSET, op.br, 0);
  code.push(op.end, op.end, op.end);
  const locals = [2, 1, I32, SCALARS.length + 3, V128];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

function moduleBytes(): Uint8Array {
  const params = [I32, I32, I32, I32, I32, ...SCALARS.map(() => F32)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, ...uleb(params.length), ...params, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('adam'), 0x00, 0]),
    ...section(10, [1, ...body()]),
  ]);
}

/** The float32 constants of one Adam step, as tf.train.adam rounds them. */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  keep1: number;
  keep2: number;
  correction1: number;
  correction2: number;
  epsilon: number;
  negativeRate: number;
}

type AdamFn = (g: number, m: number, v: number, w: number, bytes: number, ...scalars: number[]) => void;

let compiled: object | null | undefined;

function compile(): object | null {
  const bytes = moduleBytes();
  return wasm.validate(bytes) ? new wasm.Module(bytes) : null;
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

// Node has WebAssembly, but this project compiles without the DOM library that declares it.
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (descriptor: { initial: number }) => WasmMemory;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
      validate(bytes: Uint8Array): boolean;
    };
  }
).WebAssembly;

/**
 * Adam steps in WebAssembly memory. Each variable gets its moments there for good; gradient and
 * weights pass through a scratch area. Undefined where WebAssembly SIMD is unavailable.
 */
export class SimdAdam {
  private readonly memory = new wasm.Memory({ initial: 1 });
  private readonly adam: AdamFn;
  private end = 0;
  private scratch = { at: 0, bytes: 0 };
  private readonly moments = new Map<string, number>();

  private constructor(module: object) {
    const instance = new wasm.Instance(module, { env: { memory: this.memory } });
    this.adam = instance.exports['adam'] as AdamFn;
  }

  /** Whether this runtime has WebAssembly SIMD. */
  static isSupported(): boolean {
    compiled ??= compile();
    return compiled !== null;
  }

  /** A SIMD Adam, or undefined when this runtime has no WebAssembly SIMD. */
  static create(): SimdAdam | undefined {
    compiled ??= compile();
    return compiled === null ? undefined : new SimdAdam(compiled);
  }

  /**
   * The weights after one step from `gradient`, with the moments kept under `name`. The result
   * is a view into WebAssembly memory, valid until the next call.
   */
  step(name: string, weights: Float32Array, gradient: Float32Array, c: AdamConstants): Float32Array {
    const bytes = Math.ceil(weights.length / 4) * 16;
    let moments = this.moments.get(name);
    if (moments === undefined) {
      moments = this.allocate(2 * bytes); // zeroed: fresh WebAssembly memory is
      this.moments.set(name, moments);
    }
    if (this.scratch.bytes < bytes) this.scratch = { at: this.allocate(2 * bytes), bytes };
    const g = this.scratch.at;
    const w = g + bytes;
    const heap = new Float32Array(this.memory.buffer);
    heap.set(gradient, g / 4);
    heap.set(weights, w / 4);
    this.adam(g, moments, moments + bytes, w, bytes, ...SCALARS.map((s) => c[s]));
    return heap.subarray(w / 4, w / 4 + weights.length);
  }

  private allocate(bytes: number): number {
    const at = this.end;
    this.end += bytes;
    const missing = this.end - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / 65536));
    return at;
  }
}
