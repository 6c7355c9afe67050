import { Writable } from 'node:stream';
import { InMemoryBus } from '@apo/bus';
import { Topics, createMessage, type AnyMessage, type DatasetProfile, type MessageOf } from '@apo/messages';
import { canonicalize, configurationHash, type ModelConfiguration } from '@apo/model-config';
import { AnthropicProposer, RandomProposer, TpeProposer, type Proposer } from '@apo/proposers';
import { fakeReplies, startFakeMessagesApi, userText, type FakeMessagesApi } from '@apo/proposers/testing';
import { createLogger, runStage, silentLogger, type Logger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import { makeConfiguration, makePipeline } from '@apo/store/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configurationIdFor, hybridAsksLlm, llmHandlers } from './handler.ts';
import { anthropicOptionsFrom, LlmEnvSchema } from './llm-env.ts';

const quiet = silentLogger();
const profile: DatasetProfile = {
  datasetKey: 'sha256:bc',
  uri: 'builtin:breast-cancer',
  target: 'diagnosis',
  task: 'classification',
  rows: 569,
  numericColumns: ['a'],
  categoricalColumns: [],
  droppedColumns: [],
  featureCount: 30,
};
const tried: ModelConfiguration = canonicalize({
  hiddenLayers: [{ units: 64, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
});

let bus: InMemoryBus;
let store: SqliteStore;
let out: AnyMessage[];

async function start(proposers: Record<string, Proposer>, logger: Logger = quiet) {
  await runStage({ stage: 'llm', bus, processed: store, logger, handlers: llmHandlers({ store, proposers }) });
}

/** A logger whose JSON lines are kept, to check what was logged. */
function recordingLogger(): { logger: Logger; lines: () => { level: number; msg: string }[]; text: () => string } {
  let text = '';
  const logger = createLogger({ name: 'llm', level: 'info', pretty: false, destination: new Writable({ write: (c, _e, done) => ((text += String(c)), done()) }) });
  return { logger, text: () => text, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  out = [];
  await bus.subscribe({ groupId: 'o', topics: [Topics.config], handler: async (r) => void out.push(JSON.parse(r.value)) });
});
afterEach(async () => {
  await bus.close();
  await store.close();
});

async function ask(strategy: 'tpe' | 'random' | 'llm' | 'hybrid', iteration = 1, extra: { llmTokensLeft?: number } = {}) {
  const m = createMessage('GENERATE_NEW_LLM_CONFIGURATION', {
    pipelineId: 'p1',
    iteration,
    payload: { datasetKey: 'sha256:bc', strategy, kpi: { metric: 'accuracy', target: 0.97 }, profile, history: {}, historyText: '', ...extra },
  });
  await bus.publish(Topics.config, [{ key: 'p1', value: JSON.stringify(m) }]);
  await bus.whenIdle();
}
const ready = () => out.filter((m): m is MessageOf<'NEW_LLM_CONFIGURATION_READY'> => m.type === 'NEW_LLM_CONFIGURATION_READY');
const failed = () => out.filter((m): m is MessageOf<'STAGE_FAILED'> => m.type === 'STAGE_FAILED');

it('saves the proposal with its source and announces it', async () => {
  await start({ tpe: new TpeProposer() });
  await ask('tpe');
  const [announced] = ready();
  expect(announced!.payload).toMatchObject({ configurationId: configurationIdFor('p1', 1), source: 'tpe' });
  const saved = await store.getConfiguration(announced!.payload.configurationId);
  expect(saved).toMatchObject({ pipelineId: 'p1', iteration: 1, datasetKey: 'sha256:bc', source: 'tpe', hash: announced!.payload.hash });
  expect(saved!.layerCount).toBe((announced!.payload.configuration['hiddenLayers'] as unknown[]).length);
  expect(configurationHash(saved!.configuration as never)).toBe(saved!.hash);
});

it('a request sent again announces the configuration saved the first time', async () => {
  await start({ random: new RandomProposer() });
  await ask('random');
  await ask('random');
  const [first, second] = ready();
  expect(second!.payload).toEqual(first!.payload);
  expect(await store.listConfigurations({ pipelineId: 'p1' })).toHaveLength(1);
});

it('asks again when a proposal repeats a configuration tried on the dataset, and says so', async () => {
  await store.saveConfiguration(makeConfiguration({ datasetKey: 'sha256:bc', layerCount: 1, configuration: tried as never, hash: configurationHash(tried) }));
  let calls = 0;
  const repeatsOnce: Proposer = {
    name: 'tpe',
    propose: async (request) => {
      calls += 1;
      return calls === 1 ? { configuration: tried, source: 'tpe' } : new RandomProposer().propose(request);
    },
  };
  await start({ tpe: repeatsOnce });
  await ask('tpe');
  expect(calls).toBe(2);
  const saved = await store.getConfiguration(ready()[0]!.payload.configurationId);
  expect(saved!.hash).not.toBe(configurationHash(tried));
  expect(saved!.note).toMatch(/repeated tried configurations/);
});

it('a configuration let go untrained by a finished pipeline is never proposed again, and the optimizer does not count it as a failure', async () => {
  const other = await store.createPipeline(makePipeline({ id: 'p-done', status: 'finished', outcome: 'succeeded' }));
  await store.saveConfiguration(makeConfiguration({ pipelineId: other.id, datasetKey: 'sha256:bc', layerCount: 1, configuration: tried as never, hash: configurationHash(tried) }));
  const seen: number[] = [];
  let calls = 0;
  const repeatsOnce: Proposer = {
    name: 'tpe',
    propose: async (request) => {
      calls += 1;
      seen.push(request.history.length);
      return calls === 1 ? { configuration: tried, source: 'tpe' } : new RandomProposer().propose(request);
    },
  };
  await start({ tpe: repeatsOnce });
  await ask('tpe');
  // The first request learnt from nothing; the repeat was refused and the second one proposed.
  expect(seen[0]).toBe(0);
  expect(calls).toBe(2);
  expect((await store.getConfiguration(ready()[0]!.payload.configurationId))!.hash).not.toBe(configurationHash(tried));
});

it('gives up with a clear STAGE_FAILED when the proposer keeps repeating, or the strategy is not offered', async () => {
  await store.saveConfiguration(makeConfiguration({ datasetKey: 'sha256:bc', layerCount: 1, configuration: tried as never, hash: configurationHash(tried) }));
  await start({ tpe: { name: 'tpe', propose: async () => ({ configuration: tried, source: 'tpe' }) } });
  await ask('tpe', 1);
  await ask('random', 2);
  expect(ready()).toHaveLength(0);
  expect(failed().map((m) => [m.payload.error.code, m.payload.error.retryable])).toEqual([
    ['NO_NEW_CONFIGURATION', false],
    ['STRATEGY_UNAVAILABLE', false],
  ]);
  expect(failed()[1]!.payload.error.message).toMatch(/strategy "random" is not available here; available: tpe/);
});

it('without an LLM, strategies llm and hybrid propose with TPE, saying so, with one warning per process', async () => {
  const log = recordingLogger();
  await start({ tpe: new TpeProposer() }, log.logger);
  await ask('llm', 1);
  await ask('hybrid', 2);
  await ask('llm', 3);
  const saved = await store.listConfigurations({ pipelineId: 'p1' });
  expect(saved.map((c) => c.source)).toEqual(['tpe', 'tpe', 'tpe']);
  for (const c of saved) expect(c.note).toMatch(/no LLM configured \(ANTHROPIC_API_KEY unset\), so TPE proposed/);
  const warnings = log.lines().filter((l) => l.level === 40 && /no LLM is configured/.test(l.msg));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.msg).toBe('no LLM is configured (ANTHROPIC_API_KEY is not set): strategy "llm" proposes with tpe instead');
});

it('hybrid: the LLM on iterations 1-3, then on odd iterations, TPE on the even ones', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8].map(hybridAsksLlm)).toEqual([true, true, true, false, true, false, true, false]);
});

describe('with the Anthropic proposer on the fake Messages API', () => {
  const KEY = 'sk-ant-llm-stage-test-key';
  let fake: FakeMessagesApi;
  beforeAll(async () => {
    fake = await startFakeMessagesApi();
  });
  afterAll(() => fake.close());
  afterEach(() => void (fake.requests.length = 0));
  const fresh = canonicalize({ hiddenLayers: [{ units: 128, activation: 'elu' }, { units: 32, activation: 'elu' }], optimizer: 'adam', learningRate: 0.003, batchSize: 16, maxEpochs: 120 });
  const llm = () => new AnthropicProposer({ apiKey: KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2_000 });

  it('saves and announces the source, rationale, note and LLM usage; the key is nowhere', async () => {
    const log = recordingLogger();
    await start({ llm: llm(), tpe: new TpeProposer() }, log.logger);
    fake.enqueue(fakeReplies.proposal({ ...fresh, learningRate: 3 }), fakeReplies.proposal(fresh, 'two elu layers, new depth'));
    await ask('llm', 1);
    const [announced] = ready();
    expect(announced!.payload).toMatchObject({ configuration: fresh, source: 'llm-repaired', rationale: 'two elu layers, new depth', llm: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) } });
    expect(announced!.payload.note).toMatch(/learningRate: must be at most 0\.3 \(got 3\)/);
    const saved = await store.getConfiguration(announced!.payload.configurationId);
    expect(saved).toMatchObject({ source: 'llm-repaired', rationale: 'two elu layers, new depth', llm: announced!.payload.llm, note: announced!.payload.note });
    expect(saved!.llm!.inputTokens).toBeGreaterThan(0);
    // The prompt holds the dataset's history by layer count and the KPI's target.
    expect(userText(fake.requests[0]!)).toMatch(/goal accuracy >= 0\.97/);
    expect(JSON.stringify([out, saved])).not.toContain(KEY);
    expect(log.text()).not.toContain(KEY);
  });

  it('a failing LLM ends in a TPE proposal recorded as tpe-fallback, and the pipeline goes on', async () => {
    const log = recordingLogger();
    await start({ llm: llm(), tpe: new TpeProposer() }, log.logger);
    fake.enqueue(fakeReplies.serverError());
    await ask('llm', 1);
    const [announced] = ready();
    expect(announced!.payload).toMatchObject({ source: 'tpe-fallback', note: expect.stringMatching(/^LLM request failed \(server\)/) });
    expect(log.lines().some((l) => l.level === 40 && /TPE proposed/.test(l.msg))).toBe(true);
    expect(failed()).toHaveLength(0);
  });

  it('stops asking the LLM once the token budget is spent; hybrid asks TPE on its even turns', async () => {
    await start({ llm: llm(), tpe: new TpeProposer() });
    await ask('llm', 1, { llmTokensLeft: 0 });
    await ask('hybrid', 4, { llmTokensLeft: 10_000 });
    await ask('hybrid', 5, { llmTokensLeft: 10_000 });
    expect(fake.requests).toHaveLength(1);
    const bySource = ready().map((m) => [m.iteration, m.payload.source, m.payload.note ?? null]);
    expect(bySource).toEqual([
      [1, 'tpe', 'LLM token budget (budget.maxLlmTokens) spent, so TPE proposed'],
      [4, 'tpe', null],
      [5, 'llm', null],
    ]);
    expect(ready()[0]!.payload.llm).toBeUndefined();
  });
});

describe('the LLM environment', () => {
  it('gives no proposer options without a key (an empty variable is no key), and the defaults with one', () => {
    expect(anthropicOptionsFrom(LlmEnvSchema.parse({}))).toBeNull();
    expect(anthropicOptionsFrom(LlmEnvSchema.parse({ ANTHROPIC_API_KEY: '' }))).toBeNull();
    expect(anthropicOptionsFrom(LlmEnvSchema.parse({ ANTHROPIC_API_KEY: 'k' }))).toEqual({
      apiKey: 'k',
      model: 'claude-sonnet-5-5',
      maxTokens: 1024,
      timeoutMs: 60_000,
      maxRetries: 2,
      maxRepairs: 2,
    });
    const env = LlmEnvSchema.parse({
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_MODEL: 'claude-haiku-4-5',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      ANTHROPIC_MAX_TOKENS: '2048',
      ANTHROPIC_TEMPERATURE: '0.3',
      ANTHROPIC_TIMEOUT_MS: '5000',
      ANTHROPIC_MAX_RETRIES: '0',
    });
    expect(anthropicOptionsFrom(env)).toMatchObject({ model: 'claude-haiku-4-5', baseURL: 'http://127.0.0.1:9999', maxTokens: 2048, temperature: 0.3, timeoutMs: 5000, maxRetries: 0 });
  });

  it('refuses bad values, naming the variable', () => {
    expect(LlmEnvSchema.safeParse({ ANTHROPIC_BASE_URL: 'api.anthropic.com' }).success).toBe(false);
    expect(LlmEnvSchema.safeParse({ ANTHROPIC_TEMPERATURE: '2' }).success).toBe(false);
    expect(LlmEnvSchema.safeParse({ ANTHROPIC_MAX_TOKENS: 'lots' }).success).toBe(false);
  });
});
