import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendUnavailableError } from './errors/backend-unavailable-error.ts';
import { FusedAdamOptimizer } from './fused-adam.ts';
import { installFastWasmMatMul } from './wasm-matmul.ts';

/** A training backend, best first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Every backend in the order `selectBackend` tries them. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** The backend that runs, for the caller to log. */
export interface SelectedBackend {
  name: BackendName;
  /** The TensorFlow.js backend name (`tensorflow` for both native packages). */
  tfBackend: string;
  /** WASM only: whether the SIMD build runs. */
  simd: boolean;
  /** WASM only: whether XNNPACK runs multithreaded (tfjs 4.22 never does in Node). */
  threads: boolean;
  /** WASM only: whether transposed products are routed through XNNPACK (`wasm-matmul.ts`). */
  fastMatMul: boolean;
  /** WASM and CPU: whether Adam runs as one SIMD pass per variable (`fused-adam.ts`). */
  fusedAdam: boolean;
}

/** Options of `selectBackend`. */
export interface SelectBackendOptions {
  /** Run this backend or fail; without it the best available one runs. */
  prefer?: BackendName;
  /** Loads an optional native package; tests pass a fake. Defaults to dynamic `import`. */
  importModule?: (name: string) => Promise<unknown>;
  /** WASM: route transposed products through XNNPACK (default true; off for comparisons). */
  fastMatMul?: boolean;
  /** WASM and CPU: run Adam as one SIMD pass per variable (default true; off for comparisons). */
  fusedAdam?: boolean;
}

const NATIVE_PACKAGES: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let selected: Promise<SelectedBackend> | undefined;

/**
 * Picks and starts the best available backend: `@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node` (each only if installed), then WASM, then plain JavaScript. Later calls
 * return the same selection (per thread: each worker thread has a TensorFlow.js of its own);
 * asking for a different backend once one runs throws `BackendUnavailableError`, as does a
 * `prefer` that cannot run here (its message lists what can).
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  if (selected !== undefined) {
    const current = await selected;
    if (options.prefer !== undefined && options.prefer !== current.name) {
      throw new BackendUnavailableError(
        `backend ${options.prefer} requested, but ${current.name} already runs in this thread`,
        options.prefer,
        [current.name],
      );
    }
    return current;
  }
  const attempt = start(options);
  selected = attempt;
  try {
    return await attempt;
  } catch (err) {
    selected = undefined;
    throw err;
  }
}

async function start(options: SelectBackendOptions): Promise<SelectedBackend> {
  const importModule = options.importModule ?? ((name: string) => import(name));
  const candidates = options.prefer === undefined ? BACKEND_ORDER : [options.prefer];
  for (const name of candidates) {
    const backend = await tryStart(name, importModule, options.fastMatMul ?? true, options.fusedAdam ?? true);
    if (backend !== undefined) return backend;
  }
  const available = await availableBackends(importModule);
  throw new BackendUnavailableError(
    `backend ${options.prefer} is not available here; available: ${available.join(', ')}`,
    options.prefer ?? 'any',
    available,
  );
}

async function tryStart(
  name: BackendName,
  importModule: (name: string) => Promise<unknown>,
  fastMatMul: boolean,
  fusedAdam: boolean,
): Promise<SelectedBackend | undefined> {
  const pkg = NATIVE_PACKAGES[name];
  if (pkg !== undefined) {
    // The native packages register the `tensorflow` backend with TensorFlow.js when imported.
    if (!(await canImport(pkg, importModule))) return undefined;
    if (!(await tf.setBackend('tensorflow'))) return undefined;
    return describe(name, false, false);
  }
  if (name === 'wasm') {
    setWasmPaths(wasmDirectory());
    if (!(await tf.setBackend('wasm'))) return undefined;
    return describe(name, fastMatMul && installFastWasmMatMul(), fusedAdam);
  }
  if (!(await tf.setBackend('cpu'))) return undefined;
  return describe(name, false, fusedAdam);
}

async function describe(name: BackendName, fastMatMul: boolean, fusedAdam: boolean): Promise<SelectedBackend> {
  await tf.ready();
  const wasm = name === 'wasm';
  return {
    name,
    tfBackend: tf.getBackend(),
    simd: wasm && (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    threads: wasm && (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true,
    fastMatMul,
    fusedAdam: fusedAdam && FusedAdamOptimizer.isSupported(),
  };
}

/**
 * Whether training should use the fused Adam: the selected backend allows it, or, when no
 * backend was selected through `selectBackend`, the running one reads tensors back cheaply.
 */
export async function fusedAdamEnabled(): Promise<boolean> {
  if (selected !== undefined) return (await selected).fusedAdam;
  return ['wasm', 'cpu'].includes(tf.getBackend());
}

async function canImport(pkg: string, importModule: (name: string) => Promise<unknown>): Promise<boolean> {
  try {
    await importModule(pkg);
    return true;
  } catch {
    return false;
  }
}

async function availableBackends(importModule: (name: string) => Promise<unknown>): Promise<BackendName[]> {
  const available: BackendName[] = [];
  for (const name of BACKEND_ORDER) {
    const pkg = NATIVE_PACKAGES[name];
    if (pkg === undefined || (await canImport(pkg, importModule))) available.push(name);
  }
  return available;
}

/** The directory holding the `.wasm` binaries, with a trailing slash, as `setWasmPaths` wants. */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`;
}
