import { InMemoryBus, type BusRecord } from '@apo/bus';
import {
  InvalidInputError,
  Topics,
  createMessage,
  type AnyMessage,
  type DatasetProfile,
  type MessageOf,
  type LlmUsage,
  type Metrics,
} from '@apo/messages';
import { publishMessages, runStage, silentLogger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import type { Subscription } from '@apo/bus';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { iterationDag } from './dag.ts';
import { ORCHESTRATOR_IDEMPOTENT, orchestratorHandlers, orchestratorSweep, type OrchestratorDeps } from './handler.ts';

const profile: DatasetProfile = {
  datasetKey: 'sha256:iris',
  uri: 'builtin:iris',
  target: 'species',
  task: 'classification',
  rows: 150,
  numericColumns: ['a', 'b', 'c', 'd'],
  categoricalColumns: [],
  droppedColumns: [],
  featureCount: 4,
  classes: [
    { label: 'setosa', count: 50 },
    { label: 'versicolor', count: 50 },
    { label: 'virginica', count: 50 },
  ],
};
const configuration = {
  hiddenLayers: [{ units: 16, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 16,
  maxEpochs: 50,
};

let bus: InMemoryBus;
let store: SqliteStore;
let sent: AnyMessage[];
let profileError: Error | null;
let deps: OrchestratorDeps;
let orchestrator: Subscription;
/** The orchestrator's clock: tests move it to make steps overdue. */
let clock: number;

const quiet = silentLogger();
const SECOND = 1000;
// Short waits so the tests can step past them: configure 10 s, build 20 s, prepare 30 s, train 60 s.
const dag = iterationDag({
  configure: { timeoutMs: 10 * SECOND, retries: 1 },
  build: { timeoutMs: 20 * SECOND },
  prepare: { timeoutMs: 30 * SECOND },
  train: { timeoutMs: 60 * SECOND, retries: 0 },
});

const startOrchestrator = async () => {
  orchestrator = await runStage({
    stage: 'orchestrator',
    bus,
    processed: store,
    logger: quiet,
    maxAttempts: 10,
    retryBackoffMs: 1,
    handlers: orchestratorHandlers(deps),
    // As the service runs it: replies are idempotent by the pipeline's state, with no records.
    idempotent: ORCHESTRATOR_IDEMPOTENT,
  });
};

/** Stops the orchestrator, runs `meanwhile`, and starts a new one (nothing kept in memory). */
async function restartOrchestrator(meanwhile: () => Promise<void>) {
  await orchestrator.close();
  await meanwhile();
  deps = { ...deps };
  await startOrchestrator();
}

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  sent = [];
  profileError = null;
  clock = Date.now();
  deps = {
    store,
    autoStrategy: 'tpe',
    dag,
    now: () => new Date(clock),
    profileDataset: async (dataset, { task }) => {
      if (profileError) throw profileError;
      return { ...profile, uri: dataset.uri, task };
    },
  };
  await startOrchestrator();
  const topics = [Topics.config, Topics.model, Topics.features, Topics.predict, Topics.notifications];
  await bus.subscribe({
    groupId: 'observer',
    topics,
    handler: async (r: BusRecord) => void sent.push(JSON.parse(r.value) as AnyMessage),
  });
});

afterEach(async () => {
  await bus.close();
  await store.close();
});

const ofType = <T extends AnyMessage['type']>(type: T) =>
  sent.filter((m): m is MessageOf<T> => m.type === type);

/** The last command of a type sent for an iteration. */
const latest = <T extends AnyMessage['type']>(type: T, iteration: number) => ofType(type).filter((m) => m.iteration === iteration).at(-1)!;

/** One pass of the orchestrator's sweep at the current clock, its messages delivered. */
async function sweep() {
  await publishMessages(bus, await orchestratorSweep(deps)(quiet));
  await bus.whenIdle();
}

async function startPipeline(extra: Record<string, unknown> = {}) {
  await bus.publish(Topics.workflow, [
    { key: 'r', value: JSON.stringify({ kpi: 'accuracy>=0.9', dataset: 'builtin:iris', requestId: 'req-1', ...extra }) },
  ]);
  await bus.whenIdle();
  return ofType('GET_CONFIGURATION').at(-1)!;
}

async function reply<T extends AnyMessage['type']>(to: AnyMessage, type: T, payload: MessageOf<T>['payload']) {
  const message = createMessage(type, { pipelineId: to.pipelineId, iteration: to.iteration, causationId: to.id, payload: payload as never });
  const topic = { NEW_LLM_CONFIGURATION_READY: Topics.config, MODEL_READY: Topics.model, FEATURES_READY: Topics.features, PREDICTION_READY: Topics.predict, STAGE_FAILED: Topics.predict }[type as string]!;
  await bus.publish(topic, [{ key: to.pipelineId, value: JSON.stringify(message), headers: { type, id: message.id } }]);
  await bus.whenIdle();
  return message;
}

/** Plays config and llm for one iteration: the configuration is saved, then announced. */
async function configure(request: AnyMessage, llm?: LlmUsage) {
  const configurationId = `c-${request.iteration}`;
  await store.saveConfiguration({
    id: configurationId,
    pipelineId: request.pipelineId,
    iteration: request.iteration,
    datasetKey: profile.datasetKey,
    layerCount: 1,
    configuration,
    hash: `h${request.iteration}`,
    source: 'tpe',
    rationale: null,
    llm: llm ?? null,
    note: null,
    createdAt: new Date().toISOString(),
  });
  const ready = await reply(request, 'NEW_LLM_CONFIGURATION_READY', {
    configurationId,
    configuration,
    hash: `h${request.iteration}`,
    layerCount: 1,
    source: llm ? 'llm' : 'tpe',
    ...(llm ? { llm } : {}),
  });
  return { configurationId, ready };
}

/** Plays build-model and prepare-features for a configured iteration; returns its RUN_MODEL. */
async function buildAndPrepare(iteration: number, configurationId: string) {
  const [build, prepare] = [latest('GENERATE_MODEL', iteration), latest('PREPARE_FEATURES', iteration)];
  await Promise.all([
    reply(build, 'MODEL_READY', { configurationId, modelUri: `file:///m/${configurationId}`, parameterCount: 10 }),
    reply(prepare, 'FEATURES_READY', { featuresUri: 'file:///f', featuresKey: 'f', featureCount: 4, rows: { train: 105, validation: 22, test: 23 }, reused: false }),
  ]);
  return latest('RUN_MODEL', iteration);
}

/** Plays config/llm, build-model, prepare-features and predict for one iteration. */
async function iteration(request: AnyMessage, validation: Metrics, test: Metrics = validation, llm?: LlmUsage) {
  const { configurationId, ready } = await configure(request, llm);
  // At-least-once delivery: the same announcement again must not count its tokens twice.
  await bus.publish(Topics.config, [{ key: ready.pipelineId, value: JSON.stringify(ready), headers: { type: ready.type, id: ready.id } }]);
  await bus.whenIdle();
  const run = await buildAndPrepare(request.iteration, configurationId);
  await reply(run, 'PREDICTION_READY', { configurationId, validation, test, epochsRun: 10, trainingMs: 100, trainedModelUri: `file:///t/${configurationId}` });
}

/** A second orchestrator on the same store (a replica after a rebalance): handles a reply to `to` and returns what it sends. */
function asReplica() {
  const handlers = orchestratorHandlers({ ...deps });
  const ctx = { logger: quiet, record: {} as BusRecord, reply: () => { throw new Error('the orchestrator builds its own messages'); } };
  return async <T extends AnyMessage['type']>(type: T, to: AnyMessage, payload: MessageOf<T>['payload']) => {
    const message = createMessage(type, { pipelineId: to.pipelineId, iteration: to.iteration, causationId: to.id, payload: payload as never });
    return ((await handlers[type]!(message as never, ctx as never)) ?? []) as AnyMessage[];
  };
}

async function cancel(pipelineId: string, reason?: string) {
  const message = createMessage('CANCEL_PIPELINE', { pipelineId, iteration: 0, payload: reason ? { reason } : ({} as never) });
  await bus.publish(Topics.workflow, [{ key: pipelineId, value: JSON.stringify(message), headers: { type: message.type, id: message.id } }]);
  await bus.whenIdle();
  return message;
}

describe('orchestrator', () => {
  it('cancel ends a running pipeline with outcome cancelled and the best so far; late replies change nothing', async () => {
    const first = await startPipeline({ budget: { maxIterations: 5 } });
    await iteration(first, { accuracy: 0.6 });
    const second = ofType('GET_CONFIGURATION').at(-1)!;
    await store.saveConfiguration({
      id: 'c-2', pipelineId: first.pipelineId, iteration: 2, datasetKey: profile.datasetKey, layerCount: 1, configuration,
      hash: 'h2', source: 'tpe', rationale: null, llm: null, note: null, createdAt: new Date().toISOString(),
    });
    await reply(second, 'NEW_LLM_CONFIGURATION_READY', { configurationId: 'c-2', configuration, hash: 'h2', layerCount: 1, source: 'tpe' });
    const build = ofType('GENERATE_MODEL').at(-1)!;

    await cancel(first.pipelineId, 'wrong dataset');
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({
      outcome: 'cancelled',
      reason: 'wrong dataset (during iteration 2, step building)',
      best: { iteration: 1, validation: { accuracy: 0.6 } },
    });
    const before = await store.getPipeline(first.pipelineId);
    expect(before).toMatchObject({ status: 'finished', outcome: 'cancelled' });

    // The stages answer what was in flight; nothing is started or saved for it.
    const sentBefore = sent.length;
    await reply(build, 'MODEL_READY', { configurationId: 'c-2', modelUri: 'file:///m/c-2', parameterCount: 10 });
    await reply(build, 'PREDICTION_READY', { configurationId: 'c-2', validation: { accuracy: 0.99 }, test: { accuracy: 0.99 }, epochsRun: 1, trainingMs: 1, trainedModelUri: 'file:///t/c-2' });
    const commands = ['GET_CONFIGURATION', 'GENERATE_MODEL', 'PREPARE_FEATURES', 'RUN_MODEL'];
    expect(sent.slice(sentBefore).filter((m) => commands.includes(m.type))).toEqual([]);
    // Any PIPELINE_FINISHED sent again is the same message (same id): consumers keep one.
    expect(new Set(ofType('PIPELINE_FINISHED').map((m) => m.id)).size).toBe(1);
    expect(await store.getPipeline(first.pipelineId)).toEqual(before);
    expect(await store.getResultOf('c-2')).toBeNull();

    // Cancelling a finished pipeline again changes nothing either.
    await cancel(first.pipelineId);
    expect(await store.getPipeline(first.pipelineId)).toEqual(before);
  });

  it('cancel of a pipeline that finished on its own changes nothing', async () => {
    const request = await startPipeline({ budget: { maxIterations: 1 } });
    await iteration(request, { accuracy: 0.95 });
    const done = await store.getPipeline(request.pipelineId);
    await cancel(request.pipelineId);
    expect(await store.getPipeline(request.pipelineId)).toEqual(done);
    expect(ofType('PIPELINE_FINISHED').map((m) => m.payload.outcome)).toEqual(['succeeded']);
  });

  it('adds each proposal\'s LLM tokens to the pipeline, passes what is left of maxLlmTokens on, and reports the total', async () => {
    const first = await startPipeline({ strategy: 'llm', budget: { maxIterations: 3, maxLlmTokens: 3000 } });
    expect(first.payload).toMatchObject({ strategy: 'llm', llmTokensLeft: 3000 });
    const usage = (inputTokens: number, outputTokens: number): LlmUsage => ({ model: 'claude-test', inputTokens, outputTokens, latencyMs: 900 });
    await iteration(first, { accuracy: 0.5 }, { accuracy: 0.5 }, usage(2000, 200));
    const second = ofType('GET_CONFIGURATION').at(-1)!;
    expect(second.iteration).toBe(2);
    expect(second.payload.llmTokensLeft).toBe(800);
    expect((await store.getPipeline(first.pipelineId))!.llmTokens).toBe(2200);
    await iteration(second, { accuracy: 0.6 }, { accuracy: 0.6 }, usage(1000, 100));
    const third = ofType('GET_CONFIGURATION').at(-1)!;
    expect(third.payload.llmTokensLeft).toBe(0);
    await iteration(third, { accuracy: 0.7 });
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'budget_exhausted', llmTokens: 3300 });
  });

  it('sends no token budget without maxLlmTokens, and no llmTokens when no LLM was asked', async () => {
    const request = await startPipeline({ budget: { maxIterations: 1 } });
    expect(request.payload).not.toHaveProperty('llmTokensLeft');
    await iteration(request, { accuracy: 0.5 });
    expect(ofType('PIPELINE_FINISHED')[0]!.payload).not.toHaveProperty('llmTokens');
  });

  it('saves the request with the dataset profile, then asks for a configuration', async () => {
    const request = await startPipeline({ budget: { maxIterations: 3 } });
    expect(request.payload).toMatchObject({ datasetKey: 'sha256:iris', strategy: 'tpe', kpi: { metric: 'accuracy', target: 0.9 } });
    expect(request.iteration).toBe(1);
    const p = await store.getPipeline(request.pipelineId);
    expect(p).toMatchObject({ status: 'running', step: 'configuring', iteration: 1, requestId: 'req-1', budget: { maxIterations: 3 }, profile: { rows: 150 } });
  });

  it('a repeated start with the same requestId starts nothing new', async () => {
    await startPipeline();
    await startPipeline();
    expect(new Set(ofType('GET_CONFIGURATION').map((m) => m.pipelineId)).size).toBe(1);
    expect(await store.listPipelines()).toHaveLength(1);
  });

  it('bad input ends the pipeline before any configuration is asked for', async () => {
    profileError = new InvalidInputError('target column "churned" not found; columns: a, b');
    await startPipeline();
    expect(ofType('GET_CONFIGURATION')).toHaveLength(0);
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'failed', reason: 'target column "churned" not found; columns: a, b', best: null, iterationsUsed: 0 });
  });

  it('a KPI that does not fit the task is refused with the reason', async () => {
    await bus.publish(Topics.workflow, [{ key: 'r', value: JSON.stringify({ kpi: 'roc_auc>=0.9', dataset: 'builtin:iris' }) }]);
    await bus.whenIdle();
    expect(ofType('PIPELINE_FINISHED')[0]!.payload.reason).toMatch(/roc_auc" needs two classes; target "species" has 3/);
  });

  it('fans out build and prepare, joins them into one RUN_MODEL, and finishes when the KPI is met', async () => {
    const request = await startPipeline();
    await iteration(request, { accuracy: 0.95 }, { accuracy: 0.93 });
    expect(ofType('GENERATE_MODEL')[0]!.payload).toMatchObject({ configurationId: 'c-1', profile: { featureCount: 4 } });
    expect(ofType('PREPARE_FEATURES')[0]!.payload).toMatchObject({ dataset: { uri: 'builtin:iris', target: 'species' }, seed: 42 });
    expect(ofType('RUN_MODEL')).toHaveLength(1);
    expect(ofType('RUN_MODEL')[0]!.payload).toMatchObject({ modelUri: 'file:///m/c-1', featuresUri: 'file:///f' });
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({
      outcome: 'succeeded',
      iterationsUsed: 1,
      best: { iteration: 1, configurationId: 'c-1', configuration, validation: { accuracy: 0.95 }, test: { accuracy: 0.93 }, modelUri: 'file:///t/c-1' },
    });
    expect(finished!.payload.reason).toMatch(/accuracy 0.9500 on the validation split meets the target 0.9 at iteration 1/);
  });

  it('loops until the budget is spent and reports the best iteration, not the last', async () => {
    let request = await startPipeline({ budget: { maxIterations: 3 } });
    for (const accuracy of [0.7, 0.85, 0.8]) {
      await iteration(request, { accuracy });
      request = ofType('GET_CONFIGURATION').at(-1)!;
    }
    expect(ofType('GET_CONFIGURATION').map((m) => m.iteration)).toEqual([1, 2, 3]);
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'budget_exhausted', iterationsUsed: 3, best: { iteration: 2, validation: { accuracy: 0.85 } } });
    expect(finished!.payload.reason).toMatch(/all 3 iterations used; best accuracy 0.8500 \(iteration 2\) vs target 0.9/);
  });

  it('a failed iteration counts as tried, is recorded with its error, and the loop goes on', async () => {
    const request = await startPipeline({ budget: { maxIterations: 5, maxConsecutiveFailures: 2 } });
    await reply(request, 'NEW_LLM_CONFIGURATION_READY', { configurationId: 'c-1', configuration, hash: 'h1', layerCount: 1, source: 'tpe' });
    const run = ofType('GENERATE_MODEL')[0]!;
    await reply(run, 'STAGE_FAILED', {
      stage: 'predict',
      failedType: 'RUN_MODEL',
      failedMessageId: run.id,
      configurationId: 'c-1',
      error: { name: 'TrainingDivergedError', code: 'NAN_LOSS', message: 'loss became NaN at epoch 2', retryable: false },
    });
    expect(ofType('GET_CONFIGURATION').map((m) => m.iteration)).toEqual([1, 2]);
    const [result] = await store.listResults({ pipelineId: request.pipelineId });
    expect(result).toMatchObject({ configurationId: 'c-1', status: 'failed', error: { code: 'NAN_LOSS' } });

    const second = ofType('GET_CONFIGURATION').at(-1)!;
    await reply(second, 'STAGE_FAILED', {
      stage: 'llm',
      failedType: 'GENERATE_NEW_LLM_CONFIGURATION',
      failedMessageId: 'x',
      error: { name: 'Error', code: 'UNEXPECTED', message: 'proposer crashed', retryable: true },
    });
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'failed', iterationsUsed: 2, best: null });
    expect(finished!.payload.reason).toMatch(/2 iterations failed in a row; last error: proposer crashed/);
  });

  it('late and repeated replies change nothing', async () => {
    const request = await startPipeline({ budget: { maxIterations: 3 } });
    await iteration(request, { accuracy: 0.5 });
    const runs = ofType('RUN_MODEL').length;
    // A PREDICTION_READY for iteration 1 with a new id arrives again, after iteration 2 began.
    const run = ofType('RUN_MODEL')[0]!;
    await reply(run, 'PREDICTION_READY', { configurationId: 'c-1', validation: { accuracy: 0.99 }, test: { accuracy: 0.99 }, epochsRun: 1, trainingMs: 1, trainedModelUri: 'file:///late' });
    const p = await store.getPipeline(request.pipelineId);
    expect(p).toMatchObject({ status: 'running', iteration: 2, best: { validation: { accuracy: 0.5 } } });
    expect(ofType('PIPELINE_FINISHED')).toHaveLength(0);
    expect(ofType('RUN_MODEL')).toHaveLength(runs);
    // The re-sent request for iteration 2 has the id of the first, so the config stage skips it.
    const requests = ofType('GET_CONFIGURATION').filter((m) => m.iteration === 2);
    expect(new Set(requests.map((m) => m.id)).size).toBe(1);
  });

  it('a step with no reply is sent again with the same id, then its iteration fails with STEP_TIMEOUT and the loop goes on', async () => {
    const first = await startPipeline({ budget: { maxIterations: 5, maxConsecutiveFailures: 2 } });
    const t0 = clock;
    clock = t0 + 10 * SECOND - 1;
    await sweep();
    expect(ofType('GET_CONFIGURATION')).toHaveLength(1);
    clock = t0 + 10 * SECOND;
    await sweep();
    const again = ofType('GET_CONFIGURATION');
    expect(again.map((m) => [m.id, m.iteration, m.attempt])).toEqual([
      [first.id, 1, 1],
      [first.id, 1, 2],
    ]);
    // The second wait is twice the first (backoff 2): nothing until 20 s after the re-send.
    clock = t0 + 30 * SECOND - 1;
    await sweep();
    expect(ofType('GET_CONFIGURATION')).toHaveLength(2);
    clock = t0 + 30 * SECOND;
    await sweep();
    const second = latest('GET_CONFIGURATION', 2);
    expect(second.attempt).toBe(1);
    expect(await store.getPipeline(first.pipelineId)).toMatchObject({ status: 'running', iteration: 2, consecutiveFailures: 1, step: 'configuring' });

    // The late answer to iteration 1 builds nothing.
    await configure(first);
    expect(ofType('GENERATE_MODEL')).toHaveLength(0);

    // Iteration 2 gets as far as training, which never answers (no retries for train here).
    const { configurationId } = await configure(second);
    const run = await buildAndPrepare(2, configurationId);
    clock += 60 * SECOND;
    await sweep();
    expect(ofType('RUN_MODEL')).toEqual([run]);
    const [result] = await store.listResults({ pipelineId: first.pipelineId });
    expect(result).toMatchObject({ configurationId: 'c-2', iteration: 2, status: 'failed', error: { code: 'STEP_TIMEOUT' } });
    expect(result!.error!.message).toBe('step "train" got no PREDICTION_READY within 60 s (RUN_MODEL sent 1 time)');
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'failed', iterationsUsed: 2 });
    expect(finished!.payload.reason).toMatch(/2 iterations failed in a row; last error: step "train" got no PREDICTION_READY within 60 s/);

    // A training that answers after all changes nothing.
    const before = await store.getPipeline(first.pipelineId);
    await reply(run, 'PREDICTION_READY', { configurationId, validation: { accuracy: 0.99 }, test: { accuracy: 0.99 }, epochsRun: 1, trainingMs: 1, trainedModelUri: 'file:///late' });
    expect(await store.getPipeline(first.pipelineId)).toEqual(before);
  });

  it('a training whose result was saved before its reply was lost counts as trained when its step times out', async () => {
    const request = await startPipeline({ budget: { maxIterations: 3 } });
    const { configurationId } = await configure(request);
    await buildAndPrepare(1, configurationId);
    // What the predict stage writes before it replies; the reply itself never comes.
    await store.saveResult({
      id: `${configurationId}/result`, pipelineId: request.pipelineId, iteration: 1, configurationId, datasetKey: profile.datasetKey,
      layerCount: 1, status: 'succeeded', validation: { accuracy: 0.95 }, test: { accuracy: 0.94 }, trainingMs: 5, epochsRun: 3,
      modelUri: 'file:///t/c-1', error: null, createdAt: new Date().toISOString(),
    });
    clock += 60 * SECOND;
    await sweep();
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'succeeded', best: { iteration: 1, validation: { accuracy: 0.95 }, test: { accuracy: 0.94 }, modelUri: 'file:///t/c-1' } });
    expect((await store.getResultOf(configurationId))!.status).toBe('succeeded');
  });

  it("a step out of tries is declared its stage's failure: one that meets the step's reply changes nothing, one seen again announces the end again", async () => {
    const request = await startPipeline({ budget: { maxIterations: 1 } });
    const { configurationId } = await configure(request);
    const build = latest('GENERATE_MODEL', 1);
    // build-model never answers in time: re-sent after 20 s and 40 s more, out of tries 80 s later.
    for (const wait of [20, 40]) {
      clock += wait * SECOND;
      await sweep();
    }
    clock += 80 * SECOND;
    const declared = (await orchestratorSweep(deps)(quiet)).find((m) => m.type === 'STAGE_FAILED')!;
    expect(declared).toMatchObject({
      id: `${request.pipelineId}/1/GENERATE_MODEL/timeout`,
      iteration: 1,
      payload: { stage: 'build-model', failedType: 'GENERATE_MODEL', failedMessageId: build.id, configurationId, error: { code: 'STEP_TIMEOUT' } },
    });
    // The model answers before the declaration is handled: the declaration changes nothing.
    await reply(build, 'MODEL_READY', { configurationId, modelUri: 'file:///m/c-1', parameterCount: 10 });
    const before = await store.getPipeline(request.pipelineId);
    await publishMessages(bus, [declared]);
    await bus.whenIdle();
    expect(await store.getPipeline(request.pipelineId)).toEqual(before);
    expect(await store.listResults({ pipelineId: request.pipelineId })).toEqual([]);

    // Training never answers (no retries for train here): its timeout ends the pipeline.
    await reply(latest('PREPARE_FEATURES', 1), 'FEATURES_READY', { featuresUri: 'file:///f', featuresKey: 'f', featureCount: 4, rows: { train: 105, validation: 22, test: 23 }, reused: false });
    clock += 60 * SECOND;
    await sweep();
    const timeout = ofType('STAGE_FAILED').at(-1)!;
    expect(timeout.payload).toMatchObject({ stage: 'predict', failedType: 'RUN_MODEL', error: { code: 'STEP_TIMEOUT' } });
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished).toMatchObject({ causationId: timeout.id, payload: { outcome: 'budget_exhausted', iterationsUsed: 1 } });
    // The declaration delivered again (the orchestrator stopped before publishing the end): the end goes out again.
    await publishMessages(bus, [timeout]);
    await bus.whenIdle();
    expect(ofType('PIPELINE_FINISHED').map((m) => m.id)).toEqual([finished!.id, finished!.id]);
  });

  it('a restarted orchestrator sends again only the commands still waiting for their reply, and the iteration goes on', async () => {
    const request = await startPipeline({ budget: { maxIterations: 2 } });
    const { configurationId } = await configure(request);
    const build = latest('GENERATE_MODEL', 1);
    await reply(build, 'MODEL_READY', { configurationId, modelUri: 'file:///m/c-1', parameterCount: 10 });
    // The orchestrator stops; the PREPARE_FEATURES it sent is lost on the way.
    await restartOrchestrator(async () => {
      clock += 30 * SECOND;
    });
    const sentBefore = sent.length;
    await sweep();
    expect(sent.slice(sentBefore).map((m) => [m.type, m.iteration, m.attempt])).toEqual([['PREPARE_FEATURES', 1, 2]]);
    await reply(latest('PREPARE_FEATURES', 1), 'FEATURES_READY', { featuresUri: 'file:///f', featuresKey: 'f', featureCount: 4, rows: { train: 105, validation: 22, test: 23 }, reused: false });
    expect(latest('RUN_MODEL', 1).payload).toMatchObject({ modelUri: 'file:///m/c-1', featuresUri: 'file:///f' });
  });

  it('a pipeline another replica advanced meanwhile is applied on its fresh state, not on what this one saw last', async () => {
    const request = await startPipeline({ budget: { maxIterations: 2 } });
    const { configurationId } = await configure(request);
    // Another orchestrator (after a rebalance) takes the model's reply.
    const other = asReplica();
    expect(await other('MODEL_READY', latest('GENERATE_MODEL', 1), { configurationId, modelUri: 'file:///m/other', parameterCount: 10 })).toEqual([]);
    // This one last saw the model still waiting; the features' reply must still join both.
    await reply(latest('PREPARE_FEATURES', 1), 'FEATURES_READY', { featuresUri: 'file:///f', featuresKey: 'f', featureCount: 4, rows: { train: 105, validation: 22, test: 23 }, reused: false });
    expect(ofType('RUN_MODEL').map((m) => m.payload.modelUri)).toEqual(['file:///m/other']);
    expect(ofType('STAGE_FAILED')).toEqual([]);
  });

  it('a reply for a trial another replica started meanwhile is applied, not dropped as late', async () => {
    const request = await startPipeline({ budget: { maxIterations: 3 } });
    const { configurationId } = await configure(request);
    // Another orchestrator finishes iteration 1 and starts iteration 2.
    const other = asReplica();
    await other('MODEL_READY', latest('GENERATE_MODEL', 1), { configurationId, modelUri: 'file:///m/c-1', parameterCount: 10 });
    const [run] = await other('FEATURES_READY', latest('PREPARE_FEATURES', 1), { featuresUri: 'file:///f', featuresKey: 'f', featureCount: 4, rows: { train: 105, validation: 22, test: 23 }, reused: false });
    const [next] = await other('PREDICTION_READY', run!, { configurationId, validation: { accuracy: 0.5 }, test: { accuracy: 0.5 }, epochsRun: 1, trainingMs: 1, trainedModelUri: 'file:///t/c-1' });
    expect(next).toMatchObject({ type: 'GET_CONFIGURATION', iteration: 2 });
    // This one last saw iteration 1 building; iteration 2's configuration must still go on.
    await configure(next!);
    expect(ofType('GENERATE_MODEL').map((m) => m.iteration)).toEqual([1, 2]);
  });

  it('a pipeline running when the orchestrator was upgraded from the one without trials goes on from what that one saved', async () => {
    const features = { featuresUri: 'file:///f', featuresKey: 'f', featureCount: 4, rows: { train: 105, validation: 22, test: 23 }, reused: false };
    // Mid fan-out: the model was built, the features are still being prepared.
    const request = await startPipeline({ budget: { maxIterations: 2 } });
    const { configurationId } = await configure(request);
    const prepare = latest('PREPARE_FEATURES', 1);
    await restartOrchestrator(async () => {
      const p = (await store.getPipeline(request.pipelineId))!;
      const current = { iteration: 1, configurationId, configuration, layerCount: 1, modelUri: 'file:///m/c-1', featuresUri: null };
      await store.updatePipeline(p.id, p.version, { step: 'building', state: { current } });
    });
    await reply(prepare, 'FEATURES_READY', features);
    expect(latest('RUN_MODEL', 1).payload).toMatchObject({ configurationId, modelUri: 'file:///m/c-1', featuresUri: 'file:///f' });
    await reply(latest('RUN_MODEL', 1), 'PREDICTION_READY', { configurationId, validation: { accuracy: 0.5 }, test: { accuracy: 0.5 }, epochsRun: 1, trainingMs: 1, trainedModelUri: 'file:///t/c-1' });
    const second = latest('GET_CONFIGURATION', 2);
    expect(second).toBeDefined();

    // Waiting for its configuration.
    await restartOrchestrator(async () => {
      const p = (await store.getPipeline(request.pipelineId))!;
      await store.updatePipeline(p.id, p.version, { step: 'configuring', state: {} });
    });
    await configure(second);
    expect(ofType('GENERATE_MODEL').map((m) => m.iteration)).toEqual([1, 2]);
    expect(ofType('PREPARE_FEATURES').map((m) => m.iteration)).toEqual([1, 2]);
  });

  it('runs `parallelism` trials at once, each its own iteration; the first to meet the KPI ends the pipeline', async () => {
    const first = await startPipeline({ parallelism: 3, budget: { maxIterations: 4 } });
    const requests = ofType('GET_CONFIGURATION');
    expect(requests.map((m) => m.iteration)).toEqual([1, 2, 3]);
    expect(new Set(requests.map((m) => m.id)).size).toBe(3);
    expect(await store.getPipeline(first.pipelineId)).toMatchObject({ iteration: 3, step: 'configuring' });

    await iteration(latest('GET_CONFIGURATION', 2), { accuracy: 0.6 });
    // A trial ended, so the next one takes its place; the budget counts every trial started.
    expect(ofType('GET_CONFIGURATION').map((m) => m.iteration)).toEqual([1, 2, 3, 4]);
    await iteration(latest('GET_CONFIGURATION', 3), { accuracy: 0.7 });
    expect(ofType('GET_CONFIGURATION')).toHaveLength(4);
    const { configurationId } = await configure(latest('GET_CONFIGURATION', 4));
    expect(await store.getPipeline(first.pipelineId)).toMatchObject({ status: 'running', step: 'configuring, building' });

    await iteration(latest('GET_CONFIGURATION', 1), { accuracy: 0.95 });
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'succeeded', iterationsUsed: 4, best: { iteration: 1, validation: { accuracy: 0.95 } } });

    // Trial 4 was still running: its replies change nothing.
    const before = await store.getPipeline(first.pipelineId);
    const run = await buildAndPrepare(4, configurationId);
    expect(run).toBeUndefined();
    expect(await store.getPipeline(first.pipelineId)).toEqual(before);
    expect(ofType('PIPELINE_FINISHED')).toHaveLength(1);
  });

  it('with parallel trials, the budget ends when every iteration has started and none is still running', async () => {
    const first = await startPipeline({ parallelism: 2, budget: { maxIterations: 3 } });
    await iteration(latest('GET_CONFIGURATION', 1), { accuracy: 0.5 });
    await iteration(latest('GET_CONFIGURATION', 3), { accuracy: 0.8 });
    expect(ofType('PIPELINE_FINISHED')).toHaveLength(0);
    expect(await store.getPipeline(first.pipelineId)).toMatchObject({ status: 'running', iteration: 3 });
    await iteration(latest('GET_CONFIGURATION', 2), { accuracy: 0.7 });
    const [finished] = ofType('PIPELINE_FINISHED');
    expect(finished!.payload).toMatchObject({ outcome: 'budget_exhausted', iterationsUsed: 3, best: { iteration: 3, validation: { accuracy: 0.8 } } });
    expect(ofType('GET_CONFIGURATION').map((m) => m.iteration)).toEqual([1, 2, 3]);
  });
});
