// Training throughput benchmark: samples per second for two reference networks on every
// available backend, through the same `trainModel` the predict stage uses.
//
//   npm run bench:train -w @apo/ml -- [--runs 3] [--networks a,b] [--backends wasm,cpu]
//                                      [--workers 2] [--quick]
//
// Each run trains a fresh model in its own worker thread (a fresh TensorFlow.js engine, so
// backends and kernel variants cannot leak into each other). On WASM every figure alternates
// with its baseline, stock tfjs kernels, run by run; medians are quoted because the machine is
// shared. `--workers N` also runs N trainings side by side and reports their aggregate.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { parseModelConfiguration, type ModelConfigurationInput } from '@apo/model-config';
import { buildModel, selectBackend, trainModel, type BackendName } from '../src/model/index.ts';
import { syntheticFeatures } from '../src/model/synthetic.ts';

interface Network {
  id: 'a' | 'b';
  title: string;
  inputs: number;
  hidden: number[];
  classCount: number;
  rows: number;
  epochs: number;
}

const NETWORKS: Record<'a' | 'b', Network> = {
  a: { id: 'a', title: '30→64→64→1 sigmoid', inputs: 30, hidden: [64, 64], classCount: 2, rows: 5000, epochs: 20 },
  b: { id: 'b', title: '64→3×256→10 softmax', inputs: 64, hidden: [256, 256, 256], classCount: 10, rows: 10000, epochs: 10 },
};

/**
 * `stock`: tfjs's kernels and tf.train.adam; `matmul`: with transposed products routed through
 * XNNPACK; `fast`: that plus the fused Adam (what `selectBackend` turns on by default).
 */
type Variant = 'stock' | 'matmul' | 'fast';
const VARIANTS: Record<Variant, { fastMatMul: boolean; fusedAdam: boolean }> = {
  stock: { fastMatMul: false, fusedAdam: false },
  matmul: { fastMatMul: true, fusedAdam: false },
  fast: { fastMatMul: true, fusedAdam: true },
};

interface Job {
  backend: BackendName;
  variant: Variant;
  network: Network['id'];
  epochs: number;
  seed: number;
}

interface RunResult {
  job: Job;
  backend: string;
  samples: number;
  trainingMs: number;
  /** Wall-clock bounds of the training (ms since the epoch), to measure overlap. */
  startedAt: number;
  endedAt: number;
  samplesPerSecond: number;
  finalLoss: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

async function runJob(job: Job): Promise<RunResult> {
  const network = NETWORKS[job.network];
  const backend = await selectBackend({ prefer: job.backend, ...VARIANTS[job.variant] });
  if (job.epochs === 0) return { job, backend: backend.name } as RunResult; // an availability probe
  const config = parseModelConfiguration({
    hiddenLayers: network.hidden.map((units) => ({ units, activation: 'relu' })),
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize: 32,
    maxEpochs: job.epochs,
    patience: job.epochs,
  } satisfies ModelConfigurationInput);
  const features = syntheticFeatures({
    task: 'classification',
    featureCount: network.inputs,
    classCount: network.classCount,
    rows: { train: network.rows, validation: network.rows / 10, test: 0 },
    seed: 1,
  });
  const model = buildModel(config, features, { seed: job.seed });
  // Everything is set up: wait for the signal, so that side-by-side trainings start together.
  parentPort!.postMessage('ready');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  const tensorsBefore = tf.memory().numTensors;
  const startedAt = performance.timeOrigin + performance.now();
  const report = await trainModel(model, config, features, { seed: job.seed });
  const endedAt = performance.timeOrigin + performance.now();
  const tensorsAfter = tf.memory().numTensors;
  model.dispose();
  return {
    job,
    backend: backend.name,
    samples: network.rows * report.epochsRun,
    trainingMs: report.trainingMs,
    startedAt,
    endedAt,
    samplesPerSecond: report.samplesPerSecond,
    finalLoss: report.history.at(-1)?.loss ?? NaN,
    tensorsBefore,
    tensorsAfter,
  };
}

// Node 20 does not pass tsx's loader on to worker threads, so a worker registers it first.
const WORKER_ENTRY = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;

interface Running {
  ready: Promise<void>;
  start(): void;
  result: Promise<RunResult>;
}

function startWorker(job: Job): Running {
  const worker = new Worker(WORKER_ENTRY, { eval: true, workerData: job });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<RunResult>((resolve, reject) => {
    worker.on('message', (message: 'ready' | RunResult) => {
      if (message === 'ready') return markReady();
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
  // A probe answers without getting ready.
  void result.then(markReady, markReady);
  return { ready, start: () => worker.postMessage('go'), result };
}

async function inWorker(job: Job): Promise<RunResult> {
  const running = startWorker(job);
  await running.ready;
  running.start();
  return running.result;
}

/** N trainings started together; the aggregate is all their samples over the time they span. */
async function sideBySide(job: Job, count: number): Promise<{ aggregate: number; each: number[] }> {
  const running = Array.from({ length: count }, (_, i) => startWorker({ ...job, seed: job.seed + i }));
  await Promise.all(running.map((r) => r.ready));
  for (const r of running) r.start();
  const results = await Promise.all(running.map((r) => r.result));
  const spanMs = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
  return {
    aggregate: results.reduce((s, r) => s + r.samples, 0) / (spanMs / 1000),
    each: results.map((r) => r.samplesPerSecond),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Row {
  backend: string;
  variant: string;
  network: Network['id'];
  epochs: number;
  runs: number;
  median: number;
  all: number[];
  finalLoss: number;
  tensors: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      networks: { type: 'string', default: 'a,b' },
      backends: { type: 'string', default: 'wasm,cpu' },
      workers: { type: 'string', default: '0' },
      quick: { type: 'boolean', default: false },
      variants: { type: 'string', default: 'stock,matmul,fast' },
    },
  });
  const runs = Number(values.runs);
  const workers = Number(values.workers);
  const networks = values.networks.split(',').map((n) => NETWORKS[n as 'a' | 'b']).filter(Boolean);
  const backends = await availableFrom(values.backends.split(',') as BackendName[]);
  console.log(`cores: ${availableParallelism()}, runs per figure: ${runs}, backends: ${backends.join(', ')}`);

  const rows: Row[] = [];
  const report = (row: Row) => {
    rows.push(row);
    console.log(JSON.stringify({ bench: 'train', ...row }));
  };
  for (const backend of backends) {
    for (const network of networks) {
      // The plain JavaScript backend is an order of magnitude slower; a rate needs fewer epochs.
      const epochs = values.quick || backend === 'cpu' ? Math.max(1, Math.round(network.epochs / 10)) : network.epochs;
      // Routing only exists on WASM; the fused Adam also runs on CPU.
      const requested = values.variants.split(',') as Variant[];
      const variants = requested.filter((v) => backend === 'wasm' || v !== 'matmul');
      const results = new Map<Variant, RunResult[]>(variants.map((v) => [v, []]));
      for (let run = 0; run < runs; run++) {
        for (const variant of variants) {
          const result = await inWorker({ backend, variant, network: network.id, epochs, seed: 7 });
          results.get(variant)!.push(result);
          const rate = Math.round(result.samplesPerSecond);
          console.error(`  ${backend}/${variant} ${network.id} run ${run + 1}: ${rate} samples/s`);
        }
      }
      for (const [variant, list] of results) {
        const last = list.at(-1)!;
        report({
          backend,
          variant,
          network: network.id,
          epochs,
          runs: list.length,
          median: median(list.map((r) => r.samplesPerSecond)),
          all: list.map((r) => Math.round(r.samplesPerSecond)),
          finalLoss: last.finalLoss,
          tensors: `${last.tensorsBefore}→${last.tensorsAfter}`,
        });
      }
      if (workers > 1) {
        const aggregates: number[] = [];
        for (let run = 0; run < runs; run++) {
          const variant: Variant = 'fast';
          const job: Job = { backend, variant, network: network.id, epochs, seed: 7 };
          const { aggregate, each } = await sideBySide(job, workers);
          aggregates.push(aggregate);
          const parts = each.map(Math.round).join(' + ');
          console.error(`  ${backend} ×${workers} ${network.id} run ${run + 1}: ${Math.round(aggregate)} aggregate (${parts})`);
        }
        report({
          backend,
          variant: `fast ×${workers} workers`,
          network: network.id,
          epochs,
          runs: aggregates.length,
          median: median(aggregates),
          all: aggregates.map(Math.round),
          finalLoss: NaN,
          tensors: '',
        });
      }
    }
  }
  printTable(rows);
}

async function availableFrom(requested: BackendName[]): Promise<BackendName[]> {
  // Probe each in a worker: a backend, once selected, cannot be switched in the same thread.
  const out: BackendName[] = [];
  for (const backend of requested) {
    try {
      await inWorker({ backend, variant: 'stock', network: 'a', epochs: 0, seed: 0 });
      out.push(backend);
    } catch (err) {
      console.error(`  ${backend}: not available (${(err as Error).message})`);
    }
  }
  return out;
}

function printTable(rows: Row[]): void {
  const header = ['network', 'backend', 'variant', 'epochs', 'runs', 'median samples/s', 'all runs', 'tensors'];
  const body = rows.map((r) => [
    `${r.network}: ${NETWORKS[r.network].title}`,
    r.backend,
    r.variant,
    String(r.epochs),
    String(r.runs),
    String(Math.round(r.median)),
    r.all.join(' '),
    r.tensors,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of body) console.log(line(row));
  console.log(
    '\nstock: tfjs kernels and tf.train.adam; matmul: transposed products routed through XNNPACK;' +
      '\nfast: matmul plus the fused SIMD Adam (the default); ×N workers: N trainings side by side, their' +
      '\naggregate over the span of both. Batch 32, Adam lr 1e-3, synthetic data, validation rows = 10%.',
  );
}

if (isMainThread) {
  await main();
} else {
  parentPort!.postMessage(await runJob(workerData as Job));
}
