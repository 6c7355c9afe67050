import { InMemoryBus } from '@apo/bus';
import { Topics, createMessage, type AnyMessage, type DatasetProfile, type MessageOf } from '@apo/messages';
import { canonicalize, configurationHash, type ModelConfiguration } from '@apo/model-config';
import { RandomProposer, TpeProposer, type Proposer } from '@apo/proposers';
import { runStage, silentLogger } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import { makeConfiguration } from '@apo/store/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { configurationIdFor, llmHandlers } from './handler.ts';

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

async function start(proposers: Record<string, Proposer>) {
  await runStage({ stage: 'llm', bus, processed: store, logger: quiet, handlers: llmHandlers({ store, proposers }) });
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

async function ask(strategy: 'tpe' | 'random' | 'llm', iteration = 1) {
  const m = createMessage('GENERATE_NEW_LLM_CONFIGURATION', {
    pipelineId: 'p1',
    iteration,
    payload: { datasetKey: 'sha256:bc', strategy, kpi: { metric: 'accuracy', target: 0.97 }, profile, history: {}, historyText: '' },
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

it('gives up with a clear STAGE_FAILED when the proposer keeps repeating, or the strategy is not offered', async () => {
  await store.saveConfiguration(makeConfiguration({ datasetKey: 'sha256:bc', layerCount: 1, configuration: tried as never, hash: configurationHash(tried) }));
  await start({ tpe: { name: 'tpe', propose: async () => ({ configuration: tried, source: 'tpe' }) } });
  await ask('tpe', 1);
  await ask('llm', 2);
  expect(ready()).toHaveLength(0);
  expect(failed().map((m) => [m.payload.error.code, m.payload.error.retryable])).toEqual([
    ['NO_NEW_CONFIGURATION', false],
    ['STRATEGY_UNAVAILABLE', false],
  ]);
  expect(failed()[1]!.payload.error.message).toMatch(/strategy "llm" is not available here; available: tpe/);
});
