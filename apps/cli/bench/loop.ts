// Loop benchmark: what the pipeline costs around training, and how fast each search reaches a KPI.
//
//   npm run bench:loop -- [--part overhead,search,concurrent] [--iterations 50] [--seeds 5]
//                         [--max-iterations 15] [--datasets iris,wine,breast-cancer,diabetes]
//                         [--bus in-memory|kafka] [--pipelines 20]
//
// With `--bus kafka` every stage runs in this process but talks over the broker at
// $KAFKA_BROKERS, with the store in MongoDB at $MONGODB_URI (a fresh database per run).
// (c) concurrent: `--pipelines` pipelines started at once; counts how many finish.
//
// (a) overhead: one pipeline of tiny one-epoch networks on the built-in diabetes data with an
//     unreachable KPI; per iteration, wall time from GET_CONFIGURATION to the next one minus the
//     training time the predict stage measured. The first iteration (backend start-up, features
//     prepared) is reported apart and left out of p50 / p95.
// (b) search: iterations until the KPI is met, `tpe` vs `random`, each run on a fresh data
//     directory (no shared history), seeds 1..N (the seed also draws the split). A run that
//     spends its budget counts as `max-iterations + 1` in the median and is shown as ">N".
// Prints tables, then one JSON line per figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Topics, parseMessage, parseStartMessage, type AnyMessage, type PipelineFinished } from '@apo/messages';
import { RandomProposer, createSearchSpace } from '@apo/proposers';
import { silentLogger } from '@apo/runtime';
import { KafkaBus } from '@apo/bus';
import { MongoStore } from '@apo/store';
import { randomUUID } from 'node:crypto';
import { startEmbedded, type EmbeddedOptions } from '../src/run/embedded.ts';

/** The distributed parts for `--bus kafka`: the real broker, and MongoDB for the store. */
async function distributedParts(): Promise<Partial<EmbeddedOptions>> {
  if (args.bus === 'in-memory') return {};
  if (args.bus !== 'kafka') throw new Error(`--bus must be in-memory or kafka (got "${args.bus}")`);
  const brokers = process.env['KAFKA_BROKERS'];
  const uri = process.env['MONGODB_URI'];
  if (!brokers || !uri) throw new Error('--bus kafka needs KAFKA_BROKERS and MONGODB_URI (node tools/services/kafka.mjs start; node tools/services/ferretdb.mjs start)');
  return {
    bus: new KafkaBus({ brokers: brokers.split(','), clientId: 'apo-bench-loop' }),
    store: await MongoStore.connect({ uri, dbName: `bench_${randomUUID().slice(0, 8)}` }),
  };
}

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: 'overhead,search' },
    iterations: { type: 'string', default: '50' },
    seeds: { type: 'string', default: '5' },
    'max-iterations': { type: 'string', default: '15' },
    bus: { type: 'string', default: 'in-memory' },
    pipelines: { type: 'string', default: '20' },
    datasets: { type: 'string', default: 'iris,wine,breast-cancer,diabetes' },
  },
});
const parts = new Set(args.part.split(','));
const jsonLines: object[] = [];

/** Targets the well-tried first proposal misses on the default split, so a search must work for them. */
const SEARCH_TARGETS: Record<string, string> = {
  iris: 'accuracy>=1',
  wine: 'f1>=1',
  'breast-cancer': 'accuracy>=0.99',
  diabetes: 'rmse<=54',
};

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Observed {
  at: number;
  message: AnyMessage;
}

/** Runs one pipeline on embedded stages; returns its end, every message seen with its arrival time, and its results. */
async function runOne(start: Record<string, unknown>, extra: Partial<EmbeddedOptions> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'apo-bench-'));
  const embedded = await startEmbedded({ dataDir, dataRoot: dataDir, logger: silentLogger(), ...(await distributedParts()), ...extra });
  try {
    const seen: Observed[] = [];
    // A real broker keeps earlier runs' messages: this run's pipeline is told apart by its request id.
    const requestId = `bench-${randomUUID()}`;
    let observing: Promise<unknown> = Promise.resolve();
    const finished = new Promise<PipelineFinished>((resolve) => {
      observing = embedded.bus.subscribe({
        groupId: `bench-observer-${randomUUID()}`,
        fromBeginning: false,
        topics: [Topics.config, Topics.model, Topics.features, Topics.predict, Topics.notifications],
        handler: async (record) => {
          // Plain JSON: the stages validated it already, and validating again here would be
          // counted as loop overhead.
          const message = JSON.parse(record.value) as AnyMessage;
          // The sender's clock (ms): the observer itself may lag behind the stages.
          seen.push({ at: Date.parse(message.createdAt), message });
          if (message.type === 'PIPELINE_FINISHED' && message.payload.requestId === requestId) resolve(message.payload);
        },
      });
    });
    await observing;
    const startMessage = parseStartMessage({ ...start, requestId });
    await embedded.bus.publish(Topics.workflow, [{ key: null, value: JSON.stringify(startMessage), headers: {} }]);
    const result = await finished;
    const pipeline = await embedded.store.findPipelineByRequestId(requestId);
    const results = await embedded.store.listResults({ pipelineId: pipeline!.id });
    return { result, seen: seen.filter((s) => s.message.pipelineId === pipeline!.id), results };
  } finally {
    await embedded.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Tiny networks for one epoch: training is a few milliseconds, so what remains is the loop.
const tinyProposer = () => new RandomProposer({
  searchSpace: createSearchSpace({
    hiddenLayers: { min: 1, max: 1 },
    // Wide enough that 100 draws rarely repeat one another: redraws would be counted as overhead.
    units: { min: 8, max: 64 },
    activations: ['relu', 'tanh'],
    dropout: { min: 0, max: 0.3 },
    batchNorm: [false],
    l2: null,
    optimizers: ['adam'],
    batchSize: { min: 512, max: 512 },
    maxEpochs: { min: 1, max: 1 },
    patience: { min: 1, max: 1 },
  }),
});

async function overhead() {
  const iterations = Number(args.iterations);
  const elu0 = performance.eventLoopUtilization();
  const { seen, results } = await runOne(
    { kpi: 'rmse<=0.001', dataset: 'builtin:diabetes', strategy: 'random', budget: { maxIterations: iterations + 1, maxConsecutiveFailures: 5 } },
    { proposers: { random: tinyProposer() } },
  );
  const at = (type: string, iteration: number) => seen.find((s) => s.message.type === type && s.message.iteration === iteration)?.at;
  const rows: { iteration: number; total: number; training: number; outside: number; stages: Record<string, number> }[] = [];
  for (const r of results) {
    const begin = at('GET_CONFIGURATION', r.iteration)!;
    const end = at('GET_CONFIGURATION', r.iteration + 1) ?? seen.find((s) => s.message.type === 'PIPELINE_FINISHED')!.at;
    const total = end - begin;
    const step = (from: string, to: string) => at(to, r.iteration)! - at(from, r.iteration)!;
    rows.push({
      iteration: r.iteration,
      total,
      training: r.trainingMs ?? 0,
      outside: total - (r.trainingMs ?? 0),
      stages: {
        config: step('GET_CONFIGURATION', 'GENERATE_NEW_LLM_CONFIGURATION'),
        llm: step('GENERATE_NEW_LLM_CONFIGURATION', 'NEW_LLM_CONFIGURATION_READY'),
        'build+prepare': step('NEW_LLM_CONFIGURATION_READY', 'RUN_MODEL'),
        'predict (minus training)': step('RUN_MODEL', 'PREDICTION_READY') - (r.trainingMs ?? 0),
        judge: end - at('PREDICTION_READY', r.iteration)!,
      },
    });
  }
  const [first, ...rest] = rows;
  // Near 1: the loop is busy on this thread (CPU to cut); lower: it waits for I/O.
  const utilization = performance.eventLoopUtilization(elu0).utilization;
  const outside = rest.map((r) => r.outside);
  console.log(`\n(a) loop overhead, ${args.bus} bus, ${rest.length} iterations of a one-epoch network (diabetes, 442 rows)`);
  console.log(`first iteration: ${first!.total.toFixed(0)} ms in all (backend start-up, features prepared), ${first!.training} ms training`);
  console.log(`outside training per iteration: p50 ${quantile(outside, 0.5).toFixed(1)} ms, p95 ${quantile(outside, 0.95).toFixed(1)} ms (target p50 <= ${args.bus === 'kafka' ? 150 : 20} ms)`);
  console.log(`training per iteration: p50 ${quantile(rest.map((r) => r.training), 0.5)} ms`);
  // The config and llm stages read the dataset's whole history: a growing overhead shows here.
  const tenth = Math.max(1, Math.floor(outside.length / 5));
  const early = quantile(outside.slice(0, tenth), 0.5);
  const late = quantile(outside.slice(-tenth), 0.5);
  console.log(`event-loop utilisation during the run: ${utilization.toFixed(2)}`);
  console.log(`outside training, p50 of the first ${tenth} iterations ${early} ms, of the last ${tenth} ${late} ms`);
  const stageNames = Object.keys(first!.stages);
  console.log(`median per step: ${stageNames.map((s) => `${s} ${median(rest.map((r) => r.stages[s]!)).toFixed(1)} ms`).join(', ')}`);
  jsonLines.push({
    bench: 'loop-overhead',
    bus: args.bus,
    iterations: rest.length,
    outsideTrainingMs: { p50: quantile(outside, 0.5), p95: quantile(outside, 0.95), earlyP50: early, lateP50: late },
    trainingMsP50: quantile(rest.map((r) => r.training), 0.5),
    eventLoopUtilization: Number(utilization.toFixed(2)),
    stepMedianMs: Object.fromEntries(stageNames.map((s) => [s, median(rest.map((r) => r.stages[s]!))])),
  });
}

async function search() {
  const seeds = Number(args.seeds);
  const maxIterations = Number(args['max-iterations']);
  const table: string[][] = [['dataset', 'kpi', 'strategy', ...Array.from({ length: seeds }, (_, i) => `seed ${i + 1}`), 'median', 'minutes']];
  for (const dataset of args.datasets.split(',')) {
    const kpi = SEARCH_TARGETS[dataset];
    if (!kpi) throw new Error(`no search target for dataset "${dataset}"; known: ${Object.keys(SEARCH_TARGETS).join(', ')}`);
    // Strategies alternate seed by seed, so machine noise lands on both alike.
    const byStrategy: Record<string, number[]> = { random: [], tpe: [] };
    const spentMs: Record<string, number> = { random: 0, tpe: 0 };
    for (let seed = 1; seed <= seeds; seed += 1) {
      for (const strategy of ['random', 'tpe']) {
        const t0 = performance.now();
        const { result } = await runOne({ kpi, dataset: `builtin:${dataset}`, strategy, seed, budget: { maxIterations } });
        spentMs[strategy]! += performance.now() - t0;
        const used = result.outcome === 'succeeded' ? result.iterationsUsed : maxIterations + 1;
        byStrategy[strategy]!.push(used);
        process.stderr.write(`${dataset} ${strategy} seed ${seed}: ${result.outcome} after ${result.iterationsUsed}\n`);
      }
    }
    for (const strategy of ['random', 'tpe']) {
      const runs = byStrategy[strategy]!;
      const show = (n: number) => (n > maxIterations ? `>${maxIterations}` : String(n));
      table.push([dataset, kpi, strategy, ...runs.map(show), show(median(runs)), (spentMs[strategy]! / 60_000).toFixed(1)]);
      jsonLines.push({ bench: 'loop-search', dataset, kpi, strategy, maxIterations, iterationsToKpi: runs, median: median(runs), minutes: spentMs[strategy]! / 60_000 });
    }
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  console.log(`\n(b) iterations to reach the KPI (validation split), ${seeds} seeds, budget ${maxIterations}; >${maxIterations} = not reached`);
  for (const row of table) console.log(row.map((v, c) => v.padEnd(widths[c]!)).join('  '));
}

/** (c) Many pipelines at once on one set of stages: every one must finish. */
async function concurrent() {
  const count = Number(args.pipelines);
  const dataDir = mkdtempSync(join(tmpdir(), 'apo-bench-'));
  const embedded = await startEmbedded({
    dataDir,
    dataRoot: dataDir,
    logger: silentLogger(),
    proposers: { random: tinyProposer() },
    ...(await distributedParts()),
  });
  try {
    const datasets = ['iris', 'wine', 'breast-cancer'];
    const starts = Array.from({ length: count }, (_, i) =>
      parseStartMessage({ requestId: `bench-${i}-${randomUUID()}`, kpi: 'accuracy>=0.999', dataset: `builtin:${datasets[i % datasets.length]}`, strategy: 'random', budget: { maxIterations: 3 }, seed: i + 1 }),
    );
    // A real broker keeps earlier runs' notifications: only this run's request ids count.
    const ours = new Set(starts.map((s) => s.requestId!));
    const finished = new Map<string, PipelineFinished>();
    await embedded.bus.subscribe({
      groupId: `bench-observer-${randomUUID()}`,
      topics: [Topics.notifications],
      fromBeginning: false,
      handler: async (record) => {
        const message = parseMessage(record.value);
        if (message.type === 'PIPELINE_FINISHED' && ours.has(message.payload.requestId ?? '')) finished.set(message.payload.requestId!, message.payload);
      },
    });
    const t0 = performance.now();
    await embedded.bus.publish(Topics.workflow, starts.map((s) => ({ key: s.requestId!, value: JSON.stringify(s), headers: {} })));
    const deadline = Date.now() + 30 * 60_000;
    while (finished.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const seconds = (performance.now() - t0) / 1000;
    const lost = starts.filter((s) => !finished.has(s.requestId!)).length;
    const outcomes = [...finished.values()].reduce<Record<string, number>>((acc, f) => ({ ...acc, [f.outcome]: (acc[f.outcome] ?? 0) + 1 }), {});
    console.log(`\n(c) ${count} pipelines at once on the ${args.bus} bus (3 iterations of one-epoch networks each): ${finished.size} finished, ${lost} lost, in ${seconds.toFixed(1)} s; outcomes ${JSON.stringify(outcomes)}`);
    jsonLines.push({ bench: 'loop-concurrent', bus: args.bus, pipelines: count, finished: finished.size, lost, seconds, outcomes });
    if (lost > 0) process.exitCode = 1;
  } finally {
    await embedded.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (parts.has('overhead')) await overhead();
if (parts.has('concurrent')) await concurrent();
if (parts.has('search')) await search();
console.log('');
for (const line of jsonLines) console.log(JSON.stringify(line));
