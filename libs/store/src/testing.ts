import { randomUUID } from 'node:crypto';
import { afterEach, assert, beforeEach, describe, expect, it } from 'vitest';
import type { Metrics, WireError } from '@apo/messages';
import { ConcurrencyConflictError } from './errors/concurrency-conflict-error.ts';
import { DuplicateRecordError } from './errors/duplicate-record-error.ts';
import { InvalidRecordError } from './errors/invalid-record-error.ts';
import { RecordNotFoundError } from './errors/record-not-found-error.ts';
import type {
  BestSoFar,
  ConfigurationRecord,
  NewPipeline,
  NewSchedule,
  PipelineRecord,
  ResultRecord,
  ScheduleRecord,
} from './records.ts';
import type { Store } from './store.ts';

// Every check makes its own ids, dataset keys and names (randomUUID), so the suite also runs
// against a database other tests (or earlier runs) share: a check only ever asserts on records it
// made, and where a method returns records of others (listPipelines, purgeProcessed) it asserts
// what must hold whatever else is stored.

/** What each contract check runs against. */
export interface ContractContext {
  store: Store;
  /**
   * A second store over the same data (another replica) when the adapter's factory shares
   * storage; otherwise `store` itself. Races and reads go through both.
   */
  peer: Store;
  /** How many callers the race checks start at once. */
  concurrency: number;
}

/** One promise of the port, checked: resolves if the store keeps it, throws if it does not. */
export type ContractCheck = (context: ContractContext) => Promise<void>;

/** Options of `storeContractSuite`. */
export interface StoreContractOptions {
  /**
   * Whether every `makeStore()` call opens the same data (one file, one database). The suite then
   * opens two stores per test and checks that they see each other and race correctly.
   */
  sharedStorage?: boolean;
  /** Callers in each race check (default 8). */
  concurrency?: number;
}

// ---------------------------------------------------------------------------------------------
// Record factories

/** Validation-style metrics with a flat 2×2 confusion matrix. */
export function makeMetrics(overrides: Partial<Metrics> = {}): Metrics {
  return {
    loss: 0.2314,
    accuracy: 0.9561,
    f1: 0.9482,
    confusionMatrix: { size: 2, values: [40, 2, 3, 69] },
    ...overrides,
  };
}

/** A pipeline as the orchestrator first saves it, with a fresh id. */
export function makePipeline(overrides: Partial<NewPipeline> = {}): NewPipeline {
  return {
    id: randomUUID(),
    status: 'running',
    step: 'configuring',
    iteration: 0,
    kpi: { metric: 'accuracy', target: 0.97 },
    budget: { maxIterations: 20, maxConsecutiveFailures: 5 },
    dataset: { uri: 'builtin:breast-cancer' },
    profile: null,
    task: null,
    strategy: 'tpe',
    seed: 42,
    split: { train: 0.7, validation: 0.15, test: 0.15 },
    parallelism: 1,
    requestId: null,
    schedule: null,
    best: null,
    outcome: null,
    reason: null,
    error: null,
    consecutiveFailures: 0,
    llmTokens: 0,
    state: {},
    finishedAt: null,
    ...overrides,
  };
}

/** A proposed configuration with a fresh id, dataset key and hash. */
export function makeConfiguration(overrides: Partial<ConfigurationRecord> = {}): ConfigurationRecord {
  const layerCount = overrides.layerCount ?? 2;
  return {
    id: randomUUID(),
    pipelineId: randomUUID(),
    iteration: 1,
    datasetKey: `dataset-${randomUUID()}`,
    layerCount,
    configuration: {
      hiddenLayers: Array.from({ length: layerCount }, (_, i) => ({
        units: 64 >> i,
        activation: 'relu',
        dropout: 0.1,
      })),
      optimizer: 'adam',
      learningRate: 0.001,
      batchSize: 32,
      maxEpochs: 100,
      patience: 10,
    },
    hash: randomUUID().replaceAll('-', ''),
    source: 'tpe',
    rationale: null,
    llm: null,
    note: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A succeeded result of `configuration` (same pipeline, iteration, dataset, layer count). */
export function makeResultFor(configuration: ConfigurationRecord, overrides: Partial<ResultRecord> = {}): ResultRecord {
  return {
    id: randomUUID(),
    pipelineId: configuration.pipelineId,
    iteration: configuration.iteration,
    configurationId: configuration.id,
    datasetKey: configuration.datasetKey,
    layerCount: configuration.layerCount,
    status: 'succeeded',
    validation: makeMetrics(),
    test: makeMetrics({ accuracy: 0.9474, loss: 0.2502, confusionMatrix: { size: 2, values: [39, 3, 3, 69] } }),
    trainingMs: 12_345,
    epochsRun: 37,
    modelUri: `file:///models/${configuration.id}/model.json`,
    error: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A result of a fresh configuration (with fresh ids throughout). */
export function makeResult(overrides: Partial<ResultRecord> = {}): ResultRecord {
  return makeResultFor(makeConfiguration(), overrides);
}

/** A schedule with a fresh name that starts a small pipeline every hour. */
export function makeSchedule(overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    name: `schedule-${randomUUID()}`,
    cron: '0 * * * *',
    timezone: null,
    start: {
      type: 'ADAPTIVE_PIPELINE_START',
      kpi: { metric: 'accuracy', target: 0.95 },
      dataset: { uri: 'builtin:iris' },
      budget: { maxIterations: 5 },
    },
    enabled: true,
    nextRunAt: null,
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error `promise` rejects with; fails the check if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected the call to throw, but it resolved');
}

async function expectInvalidRecord(promise: Promise<unknown>, path: string): Promise<void> {
  const err = await rejectionOf(promise);
  expect(err).toBeInstanceOf(InvalidRecordError);
  expect((err as InvalidRecordError).retryable).toBe(false);
  expect((err as InvalidRecordError).details?.['path']).toBe(path);
}

/** Distinct ISO times, `seconds` after a fixed base: lets a check choose `createdAt` order. */
function at(base: number, seconds: number): string {
  return new Date(base + seconds * 1000).toISOString();
}

/** The store the `i`th caller of a race uses: the callers alternate between the two replicas. */
function racer(context: Pick<ContractContext, 'store' | 'peer'>, i: number): Store {
  return i % 2 === 0 ? context.store : context.peer;
}

function fulfilled<T>(outcomes: PromiseSettledResult<T>[]): T[] {
  return outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
}

function rejected(outcomes: PromiseSettledResult<unknown>[]): unknown[] {
  return outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
}

function makeBest(configurationId: string): BestSoFar {
  return {
    iteration: 3,
    configurationId,
    validation: makeMetrics({ accuracy: 0.9737, precision: 0.98, recall: 0.9655, roc_auc: 0.9951 }),
    test: makeMetrics({
      accuracy: 0.9649,
      confusionMatrix: { size: 3, values: [20, 1, 0, 0, 18, 2, 1, 0, 15] },
    }),
    modelUri: `file:///models/${configurationId}/model.json`,
  };
}

const SAMPLE_ERROR: WireError = {
  name: 'InvalidInputError',
  code: 'INVALID_INPUT',
  message: 'column "label" has one class only — nothing to learn',
  retryable: false,
  details: { column: 'label', classes: [{ label: 'yes', count: 120 }], nested: { empty: {}, list: [] } },
};

/** A pipeline with every optional part filled, nested and unusual values included. */
function richPipeline(): NewPipeline {
  return makePipeline({
    status: 'finished',
    step: 'finished',
    iteration: 7,
    kpi: { metric: 'rmse', target: 42.5 },
    budget: { maxIterations: 30, maxMinutes: 90.5, maxConsecutiveFailures: 3, maxLlmTokens: 200_000 },
    dataset: { uri: './data/housing.csv', target: 'price' },
    profile: {
      datasetKey: `dataset-${randomUUID()}`,
      uri: './data/housing.csv',
      target: 'price',
      task: 'regression',
      rows: 20_640,
      numericColumns: ['rooms', 'age'],
      categoricalColumns: ['ocean_proximity'],
      droppedColumns: [{ name: 'id', reason: 'unique per row' }],
      featureCount: 13,
    },
    task: 'regression',
    strategy: 'hybrid',
    seed: 2 ** 31 - 1,
    parallelism: 4,
    requestId: `request-${randomUUID()}`,
    schedule: `schedule-${randomUUID()}`,
    best: makeBest(randomUUID()),
    outcome: 'budget_exhausted',
    reason: 'ran 30 iterations; best rmse 43.1 — naïve target? 日本',
    error: SAMPLE_ERROR,
    consecutiveFailures: 2,
    llmTokens: 123_456,
    state: {
      pending: [{ type: 'MODEL_READY', messageId: randomUUID() }],
      timers: { deadline: '2030-01-01T00:00:00.000Z' },
      flags: [true, false, null],
      small: 1e-7,
      big: Number.MAX_SAFE_INTEGER,
      negative: -0.5,
      emptyObject: {},
      emptyList: [],
    },
    finishedAt: '2030-01-01T01:02:03.456Z',
  });
}

// ---------------------------------------------------------------------------------------------
// The contract

const pipelineCases = {
  'createPipeline stores version 1 and returns the pipeline exactly as saved': async ({ store, peer }) => {
    const pipeline = richPipeline();
    const created = await store.createPipeline(pipeline);
    expect(created).toStrictEqual({
      ...pipeline,
      createdAt: created.createdAt,
      updatedAt: created.updatedAt,
      version: 1,
    });
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(new Date(created.updatedAt).toISOString()).toBe(created.updatedAt);
    expect(await store.getPipeline(pipeline.id)).toStrictEqual(created);
    expect(await peer.getPipeline(pipeline.id)).toStrictEqual(created);

    // Every optional field null: nulls come back as nulls, not as missing fields.
    const sparse = makePipeline();
    const sparseCreated = await store.createPipeline(sparse);
    expect(sparseCreated).toStrictEqual({
      ...sparse,
      createdAt: sparseCreated.createdAt,
      updatedAt: sparseCreated.updatedAt,
      version: 1,
    });
    expect(await peer.getPipeline(sparse.id)).toStrictEqual(sparseCreated);
  },

  'createPipeline refuses an id that exists and keeps the first': async ({ store, peer }) => {
    const first = await store.createPipeline(makePipeline());
    const err = await rejectionOf(peer.createPipeline(makePipeline({ id: first.id, step: 'other' })));
    expect(err).toBeInstanceOf(DuplicateRecordError);
    expect(await store.getPipeline(first.id)).toStrictEqual(first);
  },

  'createPipeline refuses a request id another pipeline has, and allows many without one': async ({ store, peer }) => {
    const requestId = `request-${randomUUID()}`;
    const first = await store.createPipeline(makePipeline({ requestId }));
    const second = makePipeline({ requestId });
    expect(await rejectionOf(peer.createPipeline(second))).toBeInstanceOf(DuplicateRecordError);
    expect(await store.getPipeline(second.id)).toBeNull();
    expect(await store.findPipelineByRequestId(requestId)).toStrictEqual(first);

    const a = await store.createPipeline(makePipeline({ requestId: null }));
    const b = await peer.createPipeline(makePipeline({ requestId: null }));
    expect(await store.getPipeline(a.id)).toStrictEqual(a);
    expect(await store.getPipeline(b.id)).toStrictEqual(b);
  },

  'getPipeline and findPipelineByRequestId return null when there is none': async ({ store }) => {
    expect(await store.getPipeline(randomUUID())).toBeNull();
    expect(await store.findPipelineByRequestId(`request-${randomUUID()}`)).toBeNull();
  },

  'findPipelineByRequestId finds the pipeline started with that request': async ({ store, peer }) => {
    const requestId = `request-${randomUUID()}`;
    await store.createPipeline(makePipeline());
    const created = await store.createPipeline(makePipeline({ requestId }));
    expect(await peer.findPipelineByRequestId(requestId)).toStrictEqual(created);
    const updated = await store.updatePipeline(created.id, 1, { step: 'profiling' });
    expect(await peer.findPipelineByRequestId(requestId)).toStrictEqual(updated);
  },

  'updatePipeline applies the changes, bumps the version and keeps everything else': async ({ store, peer }) => {
    const created = await store.createPipeline(makePipeline({ reason: 'kept' }));
    const best = makeBest(randomUUID());
    const state = { pending: [{ type: 'PREDICTION_READY', iteration: 1 }] };
    const second = await store.updatePipeline(created.id, 1, { step: 'training', iteration: 1, best, state });
    expect(second).toStrictEqual({
      ...created,
      step: 'training',
      iteration: 1,
      best,
      state,
      updatedAt: second.updatedAt,
      version: 2,
    });
    expect(second.updatedAt >= created.updatedAt).toBe(true);
    expect(await peer.getPipeline(created.id)).toStrictEqual(second);

    // A field set to null is stored as null; a field set to undefined is left alone; an object
    // field is replaced whole, not merged.
    const third = await peer.updatePipeline(created.id, 2, {
      best: null,
      reason: undefined,
      state: { timers: {} },
      status: 'finished',
      outcome: 'succeeded',
      finishedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(third).toStrictEqual({
      ...second,
      best: null,
      state: { timers: {} },
      status: 'finished',
      outcome: 'succeeded',
      finishedAt: '2030-01-01T00:00:00.000Z',
      updatedAt: third.updatedAt,
      version: 3,
    });
    expect(third.reason).toBe('kept');
    expect(await store.getPipeline(created.id)).toStrictEqual(third);
  },

  'updatePipeline with a stale version throws ConcurrencyConflictError and changes nothing': async ({
    store,
    peer,
  }) => {
    const created = await store.createPipeline(makePipeline());
    const current = await store.updatePipeline(created.id, 1, { step: 'profiling' });
    for (const stale of [1, 3]) {
      const err = await rejectionOf(peer.updatePipeline(created.id, stale, { step: 'lost update' }));
      expect(err).toBeInstanceOf(ConcurrencyConflictError);
      expect((err as ConcurrencyConflictError).retryable).toBe(true);
    }
    expect(await store.getPipeline(created.id)).toStrictEqual(current);
  },

  'updatePipeline of a pipeline that does not exist throws RecordNotFoundError': async ({ store }) => {
    const id = randomUUID();
    expect(await rejectionOf(store.updatePipeline(id, 1, { step: 'x' }))).toBeInstanceOf(RecordNotFoundError);
    expect(await store.getPipeline(id)).toBeNull();
  },

  'concurrent updates from one version: exactly one wins, the others conflict': async (context) => {
    const created = await context.store.createPipeline(makePipeline());
    const outcomes = await Promise.allSettled(
      Array.from({ length: context.concurrency }, (_, i) =>
        racer(context, i).updatePipeline(created.id, 1, { step: `step-${i}` }),
      ),
    );
    const winners = fulfilled(outcomes);
    expect(winners).toHaveLength(1);
    for (const err of rejected(outcomes)) expect(err).toBeInstanceOf(ConcurrencyConflictError);
    const stored = await context.store.getPipeline(created.id);
    expect(stored).toStrictEqual(winners[0]);
    expect(stored?.version).toBe(2);
  },

  'listPipelines lists newest first': async ({ store, peer }) => {
    const made: PipelineRecord[] = [];
    for (let i = 0; i < 3; i++) {
      // Apart by more than the millisecond resolution of `createdAt`.
      if (i > 0) await sleep(5);
      made.push(await racer({ store, peer }, i).createPipeline(makePipeline()));
    }
    const ids = new Set(made.map((p) => p.id));
    const listed = (await peer.listPipelines()).filter((p) => ids.has(p.id));
    expect(listed).toStrictEqual([...made].reverse());
  },

  'listPipelines filters by status': async ({ store, peer }) => {
    const running = await store.createPipeline(makePipeline());
    const finished = await store.createPipeline(makePipeline({ status: 'finished', step: 'finished' }));
    const created = await store.createPipeline(makePipeline());
    const updated = await store.updatePipeline(created.id, 1, { status: 'finished' });

    const listedFinished = await peer.listPipelines({ status: 'finished' });
    expect(listedFinished.every((p) => p.status === 'finished')).toBe(true);
    expect(listedFinished).toContainEqual(finished);
    expect(listedFinished).toContainEqual(updated);
    expect(listedFinished.map((p) => p.id)).not.toContain(running.id);

    const listedRunning = await peer.listPipelines({ status: 'running' });
    expect(listedRunning.every((p) => p.status === 'running')).toBe(true);
    expect(listedRunning).toContainEqual(running);
    expect(listedRunning.map((p) => p.id)).not.toContain(finished.id);
    expect(listedRunning.map((p) => p.id)).not.toContain(created.id);
  },

  'listPipelines with a limit returns the newest ones, newest first': async ({ store, peer }) => {
    const made: PipelineRecord[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(5);
      made.push(await store.createPipeline(makePipeline({ status: i === 1 ? 'finished' : 'running' })));
    }
    const [, middle, newest] = made as [PipelineRecord, PipelineRecord, PipelineRecord];

    // Others may share the store, but nothing of theirs can be newer than what was just made
    // unless they write meanwhile, and then it is newer still.
    const two = await peer.listPipelines({ limit: 2 });
    expect(two).toHaveLength(2);
    const [first, second] = two as [PipelineRecord, PipelineRecord];
    expect(first.createdAt >= newest.createdAt).toBe(true);
    expect(second.createdAt >= middle.createdAt).toBe(true);
    expect(first.createdAt >= second.createdAt).toBe(true);

    const running = await peer.listPipelines({ status: 'running', limit: 1 });
    expect(running).toHaveLength(1);
    expect(running[0]?.status).toBe('running');
    expect((running[0]?.createdAt ?? '') >= newest.createdAt).toBe(true);
  },
} satisfies Record<string, ContractCheck>;

const configurationCases = {
  'saveConfiguration inserts once; the same id again changes nothing and returns the stored one': async ({
    store,
    peer,
  }) => {
    const configuration = makeConfiguration({
      source: 'llm',
      rationale: 'two wider layers — the last one overfit; 日本',
      llm: { model: 'claude-sonnet', inputTokens: 1834, outputTokens: 412, latencyMs: 2931.5 },
      note: 'repaired dropout 0.9 → 0.5',
    });
    expect(await store.saveConfiguration(configuration)).toStrictEqual({ inserted: true, record: configuration });
    expect(await peer.saveConfiguration({ ...configuration, rationale: 'another' })).toStrictEqual({
      inserted: false,
      record: configuration,
    });
    expect(await store.saveConfiguration(configuration)).toStrictEqual({ inserted: false, record: configuration });
    expect(await peer.getConfiguration(configuration.id)).toStrictEqual(configuration);
  },

  'saveConfiguration refuses another id with the same dataset and hash': async ({ store, peer }) => {
    const first = makeConfiguration();
    await store.saveConfiguration(first);
    const second = makeConfiguration({ datasetKey: first.datasetKey, hash: first.hash });
    const err = await rejectionOf(peer.saveConfiguration(second));
    expect(err).toBeInstanceOf(DuplicateRecordError);
    expect((err as DuplicateRecordError).retryable).toBe(false);
    expect(await store.getConfiguration(second.id)).toBeNull();
    expect(await store.findConfigurationByHash(first.datasetKey, first.hash)).toStrictEqual(first);

    // The same configuration is new on another dataset.
    const elsewhere = makeConfiguration({ hash: first.hash });
    expect(await peer.saveConfiguration(elsewhere)).toStrictEqual({ inserted: true, record: elsewhere });
  },

  'concurrent saves of one hash with different ids: exactly one wins': async (context) => {
    const datasetKey = `dataset-${randomUUID()}`;
    const hash = randomUUID();
    const candidates = Array.from({ length: context.concurrency }, () => makeConfiguration({ datasetKey, hash }));
    const outcomes = await Promise.allSettled(
      candidates.map((c, i) => racer(context, i).saveConfiguration(c)),
    );
    const winners = fulfilled(outcomes);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.inserted).toBe(true);
    const losers = rejected(outcomes);
    expect(losers).toHaveLength(context.concurrency - 1);
    for (const err of losers) expect(err).toBeInstanceOf(DuplicateRecordError);
    expect(await context.store.findConfigurationByHash(datasetKey, hash)).toStrictEqual(winners[0]?.record);
    expect(await context.peer.listConfigurations({ datasetKey })).toStrictEqual([winners[0]?.record]);
  },

  'getConfiguration and findConfigurationByHash return null when there is none': async ({ store }) => {
    const saved = makeConfiguration();
    await store.saveConfiguration(saved);
    expect(await store.getConfiguration(randomUUID())).toBeNull();
    expect(await store.findConfigurationByHash(saved.datasetKey, randomUUID())).toBeNull();
    expect(await store.findConfigurationByHash(`dataset-${randomUUID()}`, saved.hash)).toBeNull();
  },

  'listConfigurations filters by pipeline, by dataset or both, oldest first': async ({ store, peer }) => {
    const base = Date.now() - 3_600_000;
    const [p1, p2, d1, d2] = [randomUUID(), randomUUID(), `dataset-${randomUUID()}`, `dataset-${randomUUID()}`];
    // Saved out of time order: the order is by createdAt, not by insertion.
    const c3 = makeConfiguration({ pipelineId: p1, datasetKey: d1, createdAt: at(base, 3) });
    const c1 = makeConfiguration({ pipelineId: p1, datasetKey: d1, createdAt: at(base, 1) });
    const c4 = makeConfiguration({ pipelineId: p1, datasetKey: d2, createdAt: at(base, 4) });
    const c2 = makeConfiguration({ pipelineId: p2, datasetKey: d1, createdAt: at(base, 2) });
    for (const [i, c] of [c3, c1, c4, c2].entries()) await racer({ store, peer }, i).saveConfiguration(c);

    expect(await peer.listConfigurations({ pipelineId: p1 })).toStrictEqual([c1, c3, c4]);
    expect(await store.listConfigurations({ datasetKey: d1 })).toStrictEqual([c1, c2, c3]);
    expect(await peer.listConfigurations({ pipelineId: p1, datasetKey: d1 })).toStrictEqual([c1, c3]);
    expect(await store.listConfigurations({ pipelineId: randomUUID() })).toStrictEqual([]);
  },
} satisfies Record<string, ContractCheck>;

const resultCases = {
  'saveResult keeps one result per configuration and returns the first': async ({ store, peer }) => {
    const configuration = makeConfiguration();
    await store.saveConfiguration(configuration);
    const first = makeResultFor(configuration);
    expect(await store.saveResult(first)).toStrictEqual({ inserted: true, record: first });

    const second = makeResultFor(configuration, { validation: makeMetrics({ accuracy: 0.99 }), trainingMs: 1 });
    expect(await peer.saveResult(second)).toStrictEqual({ inserted: false, record: first });
    expect(await store.saveResult(first)).toStrictEqual({ inserted: false, record: first });
    expect(await peer.listResults({ pipelineId: configuration.pipelineId })).toStrictEqual([first]);
  },

  'getResultOf finds the result of a configuration, and null before it has one': async ({ store, peer }) => {
    const [a, b] = [makeConfiguration(), makeConfiguration()];
    await store.saveConfiguration(a);
    await store.saveConfiguration(b);
    expect(await peer.getResultOf(a.id)).toBeNull();
    const result = makeResultFor(a);
    await store.saveResult(result);
    expect(await peer.getResultOf(a.id)).toStrictEqual(result);
    expect(await peer.getResultOf(b.id)).toBeNull();
  },

  'saveResult refuses an id taken by the result of another configuration': async ({ store, peer }) => {
    const pipelineId = randomUUID();
    const a = makeConfiguration({ pipelineId });
    const b = makeConfiguration({ pipelineId, datasetKey: a.datasetKey });
    const first = makeResultFor(a);
    await store.saveResult(first);
    const err = await rejectionOf(peer.saveResult(makeResultFor(b, { id: first.id })));
    expect(err).toBeInstanceOf(DuplicateRecordError);
    expect(await store.listResults({ pipelineId })).toStrictEqual([first]);
  },

  'concurrent results for one configuration: exactly one is stored, every caller gets it': async (context) => {
    const configuration = makeConfiguration();
    const outcomes = await Promise.all(
      Array.from({ length: context.concurrency }, (_, i) =>
        racer(context, i).saveResult(makeResultFor(configuration, { epochsRun: i + 1 })),
      ),
    );
    const inserted = outcomes.filter((o) => o.inserted);
    expect(inserted).toHaveLength(1);
    const winner = inserted[0]?.record;
    for (const outcome of outcomes) expect(outcome.record).toStrictEqual(winner);
    expect(await context.store.listResults({ pipelineId: configuration.pipelineId })).toStrictEqual([winner]);
  },

  'saveResult stores a failed result with nulls and an error exactly': async ({ store, peer }) => {
    const configuration = makeConfiguration();
    const failed = makeResultFor(configuration, {
      status: 'failed',
      validation: null,
      test: null,
      trainingMs: null,
      epochsRun: null,
      modelUri: null,
      error: SAMPLE_ERROR,
    });
    expect(await store.saveResult(failed)).toStrictEqual({ inserted: true, record: failed });
    expect(await peer.listResults({ datasetKey: configuration.datasetKey })).toStrictEqual([failed]);
  },

  'listResults filters by pipeline, by dataset or both, oldest first': async ({ store, peer }) => {
    const base = Date.now() - 3_600_000;
    const [p1, p2, d1, d2] = [randomUUID(), randomUUID(), `dataset-${randomUUID()}`, `dataset-${randomUUID()}`];
    const r3 = makeResult({ pipelineId: p1, datasetKey: d1, createdAt: at(base, 3) });
    const r1 = makeResult({ pipelineId: p1, datasetKey: d1, createdAt: at(base, 1) });
    const r4 = makeResult({ pipelineId: p1, datasetKey: d2, createdAt: at(base, 4) });
    const r2 = makeResult({ pipelineId: p2, datasetKey: d1, createdAt: at(base, 2) });
    for (const [i, r] of [r3, r1, r4, r2].entries()) await racer({ store, peer }, i).saveResult(r);

    expect(await peer.listResults({ pipelineId: p1 })).toStrictEqual([r1, r3, r4]);
    expect(await store.listResults({ datasetKey: d1 })).toStrictEqual([r1, r2, r3]);
    expect(await peer.listResults({ pipelineId: p1, datasetKey: d1 })).toStrictEqual([r1, r3]);
    expect(await store.listResults({ datasetKey: `dataset-${randomUUID()}` })).toStrictEqual([]);
  },
} satisfies Record<string, ContractCheck>;

const historyCases = {
  'historyByLayerCount groups by layer count ascending, oldest first, with results joined': async ({
    store,
    peer,
  }) => {
    const base = Date.now() - 3_600_000;
    const datasetKey = `dataset-${randomUUID()}`;
    const pipelineId = randomUUID();
    const make = (layerCount: number, second: number, iteration: number) =>
      makeConfiguration({ pipelineId, datasetKey, layerCount, iteration, createdAt: at(base, second) });
    const a = make(3, 5, 5);
    const b = make(1, 4, 4);
    const c = make(2, 2, 2);
    const d = make(1, 1, 1);
    const e = make(3, 3, 3);
    // Another dataset with the same layer count and an older configuration stays out.
    const unrelated = makeConfiguration({ layerCount: 1, createdAt: at(base, 0) });
    for (const [i, configuration] of [a, b, c, d, e, unrelated].entries()) {
      await racer({ store, peer }, i).saveConfiguration(configuration);
    }
    const ra = makeResultFor(a);
    const rc = makeResultFor(c, { status: 'failed', validation: null, test: null, error: SAMPLE_ERROR });
    const rd = makeResultFor(d);
    for (const result of [rd, ra, rc, makeResultFor(unrelated)]) await peer.saveResult(result);

    expect(await store.historyByLayerCount(datasetKey)).toStrictEqual([
      {
        layerCount: 1,
        entries: [
          { configuration: d, result: rd },
          { configuration: b, result: null },
        ],
      },
      { layerCount: 2, entries: [{ configuration: c, result: rc }] },
      {
        layerCount: 3,
        entries: [
          { configuration: e, result: null },
          { configuration: a, result: ra },
        ],
      },
    ]);
  },

  'historyByLayerCount of a dataset without configurations is empty': async ({ store }) => {
    expect(await store.historyByLayerCount(`dataset-${randomUUID()}`)).toStrictEqual([]);
  },
} satisfies Record<string, ContractCheck>;

const scheduleCases = {
  'putSchedule creates a schedule with no claim, and getSchedule returns it': async ({ store, peer }) => {
    const schedule = makeSchedule({ timezone: 'Europe/Berlin', nextRunAt: '2030-01-01T10:00:00.000Z' });
    const put = await store.putSchedule(schedule);
    expect(put).toStrictEqual({
      ...schedule,
      lastTickAt: null,
      lockedBy: null,
      createdAt: put.createdAt,
      updatedAt: put.updatedAt,
    });
    expect(new Date(put.createdAt).toISOString()).toBe(put.createdAt);
    expect(await peer.getSchedule(schedule.name)).toStrictEqual(put);
    expect(await store.getSchedule(`schedule-${randomUUID()}`)).toBeNull();
  },

  'putSchedule replaces a schedule by name and keeps its claim state': async ({ store, peer }) => {
    const schedule = makeSchedule();
    const first = await store.putSchedule(schedule);
    const tick = '2030-01-01T10:00:00.000Z';
    expect(await store.claimScheduleTick(schedule.name, tick, 'replica-a', '2030-01-01T11:00:00.000Z')).toBe(true);

    const replacement = {
      ...schedule,
      cron: '*/5 * * * *',
      enabled: false,
      timezone: 'UTC',
      start: { kpi: 'accuracy>=0.9', dataset: 'builtin:wine' },
      nextRunAt: '2030-01-01T10:05:00.000Z',
    };
    const replaced = await peer.putSchedule(replacement);
    expect(replaced).toStrictEqual({
      ...replacement,
      lastTickAt: tick,
      lockedBy: 'replica-a',
      createdAt: first.createdAt,
      updatedAt: replaced.updatedAt,
    });
    expect(await store.getSchedule(schedule.name)).toStrictEqual(replaced);
    expect(await store.claimScheduleTick(schedule.name, tick, 'replica-b', null)).toBe(false);
  },

  'listSchedules lists schedules by name': async ({ store, peer }) => {
    const prefix = `schedule-${randomUUID()}`;
    const made: ScheduleRecord[] = [];
    for (const suffix of ['b', 'c', 'a']) made.push(await store.putSchedule(makeSchedule({ name: `${prefix}-${suffix}` })));
    const listed = (await peer.listSchedules()).filter((s) => s.name.startsWith(prefix));
    const byName = (name: string) => made.find((s) => s.name === name);
    expect(listed).toStrictEqual([byName(`${prefix}-a`), byName(`${prefix}-b`), byName(`${prefix}-c`)]);
  },

  'updateSchedule changes the given fields; an unknown schedule throws RecordNotFoundError': async ({
    store,
    peer,
  }) => {
    const schedule = makeSchedule({ nextRunAt: '2030-01-01T10:00:00.000Z' });
    const put = await store.putSchedule(schedule);
    const start = { kpi: { metric: 'f1', target: 0.9 }, dataset: { uri: 'builtin:iris' } };
    const updated = await peer.updateSchedule(schedule.name, { enabled: false, nextRunAt: null, start });
    expect(updated).toStrictEqual({
      ...put,
      enabled: false,
      nextRunAt: null,
      start,
      updatedAt: updated.updatedAt,
    });
    expect(await store.getSchedule(schedule.name)).toStrictEqual(updated);

    const name = `schedule-${randomUUID()}`;
    expect(await rejectionOf(store.updateSchedule(name, { enabled: true }))).toBeInstanceOf(RecordNotFoundError);
    expect(await store.getSchedule(name)).toBeNull();
  },

  'deleteSchedule deletes a schedule once': async ({ store, peer }) => {
    const schedule = makeSchedule();
    await store.putSchedule(schedule);
    expect(await peer.deleteSchedule(schedule.name)).toBe(true);
    expect(await store.getSchedule(schedule.name)).toBeNull();
    expect((await store.listSchedules()).map((s) => s.name)).not.toContain(schedule.name);
    expect(await store.deleteSchedule(schedule.name)).toBe(false);
  },

  'claimScheduleTick: exactly one of concurrent claims of one tick wins': async (context) => {
    const schedule = makeSchedule();
    await context.store.putSchedule(schedule);
    const tick = '2030-01-01T10:00:00.000Z';
    const next = '2030-01-01T11:00:00.000Z';
    const claims = await Promise.all(
      Array.from({ length: context.concurrency }, (_, i) =>
        racer(context, i).claimScheduleTick(schedule.name, tick, `replica-${i}`, next),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const stored = await context.peer.getSchedule(schedule.name);
    expect(stored?.lastTickAt).toBe(tick);
    expect(stored?.lockedBy).toBe(`replica-${claims.indexOf(true)}`);
    expect(stored?.nextRunAt).toBe(next);
  },

  'claimScheduleTick: a later tick can be claimed, the same or an earlier one cannot': async ({ store, peer }) => {
    const schedule = makeSchedule();
    await store.putSchedule(schedule);
    const { name } = schedule;
    expect(await store.claimScheduleTick(name, '2030-01-01T10:00:00.000Z', 'replica-a', null)).toBe(true);
    expect(await peer.claimScheduleTick(name, '2030-01-01T10:00:00.000Z', 'replica-a', null)).toBe(false);
    // The same instant spelled differently is the same tick.
    expect(await peer.claimScheduleTick(name, '2030-01-01T10:00:00Z', 'replica-b', null)).toBe(false);
    expect(await peer.claimScheduleTick(name, '2030-01-01T09:00:00.000Z', 'replica-b', null)).toBe(false);
    expect(await peer.claimScheduleTick(name, '2030-01-01T11:00:00.000Z', 'replica-b', '2030-01-01T12:00:00.000Z')).toBe(
      true,
    );
    expect(await store.claimScheduleTick(name, '2030-01-01T10:30:00.000Z', 'replica-a', null)).toBe(false);
    await expectInvalidRecord(store.claimScheduleTick(name, 'not a time', 'replica-a', null), 'tickAt');
    const stored = await store.getSchedule(name);
    expect(stored?.lastTickAt).toBe('2030-01-01T11:00:00.000Z');
    expect(stored?.lockedBy).toBe('replica-b');
    expect(stored?.nextRunAt).toBe('2030-01-01T12:00:00.000Z');
  },

  'claimScheduleTick of a schedule that does not exist is false': async ({ store }) => {
    const name = `schedule-${randomUUID()}`;
    expect(await store.claimScheduleTick(name, '2030-01-01T10:00:00.000Z', 'replica-a', null)).toBe(false);
    expect(await store.getSchedule(name)).toBeNull();
  },
} satisfies Record<string, ContractCheck>;

const HOUR_MS = 3_600_000;

const processedCases = {
  'markProcessed is true the first time and false for a redelivery, per consumer': async ({ store, peer }) => {
    const consumer = `consumer-${randomUUID()}`;
    const messageId = randomUUID();
    const expiresAt = new Date(Date.now() + HOUR_MS);
    expect(await store.isProcessed(consumer, messageId)).toBe(false);
    expect(await store.markProcessed(consumer, messageId, expiresAt)).toBe(true);
    expect(await peer.markProcessed(consumer, messageId, expiresAt)).toBe(false);
    expect(await store.markProcessed(consumer, messageId, expiresAt)).toBe(false);
    expect(await peer.isProcessed(consumer, messageId)).toBe(true);
    // Another consumer group handles the same message on its own.
    const other = `consumer-${randomUUID()}`;
    expect(await peer.isProcessed(other, messageId)).toBe(false);
    expect(await peer.markProcessed(other, messageId, expiresAt)).toBe(true);
  },

  'concurrent markProcessed of one message: exactly one is true': async (context) => {
    const consumer = `consumer-${randomUUID()}`;
    const messageId = randomUUID();
    const expiresAt = new Date(Date.now() + HOUR_MS);
    const marks = await Promise.all(
      Array.from({ length: context.concurrency }, (_, i) =>
        racer(context, i).markProcessed(consumer, messageId, expiresAt),
      ),
    );
    expect(marks.filter(Boolean)).toHaveLength(1);
  },

  'an expired processed-message record is forgotten before it is purged': async ({ store, peer }) => {
    const consumer = `consumer-${randomUUID()}`;
    const messageId = randomUUID();
    expect(await store.markProcessed(consumer, messageId, new Date(Date.now() - 60_000))).toBe(true);
    expect(await peer.isProcessed(consumer, messageId)).toBe(false);
    expect(await peer.markProcessed(consumer, messageId, new Date(Date.now() + HOUR_MS))).toBe(true);
    expect(await store.isProcessed(consumer, messageId)).toBe(true);
    expect(await store.markProcessed(consumer, messageId, new Date(Date.now() + HOUR_MS))).toBe(false);
  },

  'purgeProcessed deletes records that expired before the time given and counts them': async ({ store, peer }) => {
    // Expiry times in a random instant of the 1990s: no other check, run or user of a shared
    // store has records expiring within these few milliseconds.
    const t = Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 10 * 365 * 24 * HOUR_MS);
    await store.purgeProcessed(new Date(t + 3));
    const consumer = `consumer-${randomUUID()}`;
    const [m1, m2, m3, m4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await store.markProcessed(consumer, m1, new Date(t));
    await peer.markProcessed(consumer, m2, new Date(t + 1));
    await store.markProcessed(consumer, m3, new Date(t + 2));
    await peer.markProcessed(consumer, m4, new Date(Date.now() + HOUR_MS));

    expect(await peer.purgeProcessed(new Date(t + 2))).toBe(2);
    expect(await store.purgeProcessed(new Date(t + 2))).toBe(0);
    expect(await store.purgeProcessed(new Date(t + 3))).toBe(1);
    expect(await store.isProcessed(consumer, m4)).toBe(true);
    expect(await store.markProcessed(consumer, m4, new Date(Date.now() + HOUR_MS))).toBe(false);
  },
} satisfies Record<string, ContractCheck>;

const documentRuleCases = {
  'a NaN metric is refused with the field path, and nothing is written': async ({ store }) => {
    const best = makeBest(randomUUID());
    const pipeline = makePipeline({ best: { ...best, validation: { ...best.validation, accuracy: Number.NaN } } });
    await expectInvalidRecord(store.createPipeline(pipeline), 'best.validation.accuracy');
    expect(await store.getPipeline(pipeline.id)).toBeNull();
  },

  'an update with an infinity is refused and the pipeline stays as it was': async ({ store, peer }) => {
    const created = await store.createPipeline(makePipeline());
    const best = makeBest(randomUUID());
    await expectInvalidRecord(
      store.updatePipeline(created.id, 1, { best: { ...best, test: { rmse: Number.POSITIVE_INFINITY } } }),
      'best.test.rmse',
    );
    await expectInvalidRecord(store.updatePipeline(created.id, 1, { llmTokens: Number.NEGATIVE_INFINITY }), 'llmTokens');
    expect(await peer.getPipeline(created.id)).toStrictEqual(created);
    // The refused updates did not use up the version.
    expect((await peer.updatePipeline(created.id, 1, { best })).version).toBe(2);
  },

  'a result with NaN is refused, and the configuration can still get its result': async ({ store, peer }) => {
    const configuration = makeConfiguration();
    await store.saveConfiguration(configuration);
    await expectInvalidRecord(
      store.saveResult(makeResultFor(configuration, { validation: makeMetrics({ loss: Number.NaN }) })),
      'validation.loss',
    );
    await expectInvalidRecord(
      store.saveResult(
        makeResultFor(configuration, {
          test: makeMetrics({ confusionMatrix: { size: 2, values: [[1, 2], [3, 4]] as unknown as number[] } }),
        }),
      ),
      'test.confusionMatrix.values[0]',
    );
    expect(await peer.listResults({ pipelineId: configuration.pipelineId })).toStrictEqual([]);
    const valid = makeResultFor(configuration);
    expect(await peer.saveResult(valid)).toStrictEqual({ inserted: true, record: valid });
  },

  'arrays inside arrays and keys with "." or a leading "$" are refused, and nothing is written': async ({
    store,
  }) => {
    const configuration = makeConfiguration({ configuration: { hiddenLayers: [[64, 'relu']] } });
    await expectInvalidRecord(store.saveConfiguration(configuration), 'configuration.hiddenLayers[0]');
    expect(await store.getConfiguration(configuration.id)).toBeNull();
    expect(await store.findConfigurationByHash(configuration.datasetKey, configuration.hash)).toBeNull();

    const pipeline = makePipeline({ state: { timers: { 'model.ready': 1 } } });
    await expectInvalidRecord(store.createPipeline(pipeline), 'state.timers["model.ready"]');
    expect(await store.getPipeline(pipeline.id)).toBeNull();

    const schedule = makeSchedule({ start: { $where: 'sleep(1000)' } });
    await expectInvalidRecord(store.putSchedule(schedule), 'start["$where"]');
    expect(await store.getSchedule(schedule.name)).toBeNull();

    const kept = await store.putSchedule(makeSchedule());
    await expectInvalidRecord(store.updateSchedule(kept.name, { start: { dataset: { $ref: 'x' } } }), 'start.dataset["$ref"]');
    expect(await store.getSchedule(kept.name)).toStrictEqual(kept);
  },
} satisfies Record<string, ContractCheck>;

const roundTripCases = {
  'every record comes back from another store instance deep-equal to what was saved': async ({ store, peer }) => {
    const created = await store.createPipeline(richPipeline());
    const sparse = await store.createPipeline(makePipeline());
    const configuration = makeConfiguration({
      pipelineId: created.id,
      layerCount: 4,
      rationale: 'tab\tnewline\nquote" backslash\\ emoji 🧪',
      llm: { model: 'claude', inputTokens: 0, outputTokens: 0, latencyMs: 0.125 },
    });
    await store.saveConfiguration(configuration);
    const result = makeResultFor(configuration, {
      validation: makeMetrics({ r2: -0.25, rmse: 0.1 + 0.2, mae: 1e-12 }),
      test: { confusionMatrix: { size: 1, values: [114] } },
    });
    await store.saveResult(result);
    const schedule = await store.putSchedule(makeSchedule({ start: { nested: { deeper: [{ a: null }, 'x', 3] } } }));

    expect(await peer.getPipeline(created.id)).toStrictEqual(created);
    expect(await peer.getPipeline(sparse.id)).toStrictEqual(sparse);
    expect(await peer.getConfiguration(configuration.id)).toStrictEqual(configuration);
    expect(await peer.listResults({ pipelineId: created.id })).toStrictEqual([result]);
    expect(await peer.historyByLayerCount(configuration.datasetKey)).toStrictEqual([
      { layerCount: 4, entries: [{ configuration, result }] },
    ]);
    expect(await peer.getSchedule(schedule.name)).toStrictEqual(schedule);
  },
} satisfies Record<string, ContractCheck>;

/**
 * Every promise of the `Store` port as a named check. `storeContractSuite` registers each as a
 * test; a check may also be run on its own (for example against a deliberately broken store,
 * to show that it can fail).
 */
export const storeContractCases = {
  ...pipelineCases,
  ...configurationCases,
  ...resultCases,
  ...historyCases,
  ...scheduleCases,
  ...processedCases,
  ...documentRuleCases,
  ...roundTripCases,
} satisfies Record<string, ContractCheck>;

/** The name of one contract check. */
export type StoreContractCaseName = keyof typeof storeContractCases;

/**
 * The contract suite every `Store` adapter runs unchanged: one test per check of
 * `storeContractCases`. `makeStore` gives a store per test (fresh, or over shared data: every
 * check makes its own ids); the suite closes what it opened after each test.
 */
export function storeContractSuite(
  name: string,
  makeStore: () => Promise<Store>,
  options: StoreContractOptions = {},
): void {
  describe(name, () => {
    let context: ContractContext | undefined;

    beforeEach(async () => {
      const store = await makeStore();
      const peer = options.sharedStorage ? await makeStore() : store;
      context = { store, peer, concurrency: options.concurrency ?? 8 };
    });

    afterEach(async () => {
      if (!context) return;
      const { store, peer } = context;
      context = undefined;
      await store.close();
      if (peer !== store) await peer.close();
    });

    for (const [title, check] of Object.entries<ContractCheck>(storeContractCases)) {
      it(title, async () => {
        if (!context) throw new Error('the store factory failed; see the beforeEach error');
        await check(context);
      });
    }
  });
}
