import { describe, expect, it } from 'vitest';
import {
  Catalog,
  MESSAGE_TYPES,
  createMessage,
  parseMessage,
  topicOf,
  type MessageType,
  type PayloadOf,
} from './catalog.ts';
import { InvalidMessageError } from './errors/invalid-message-error.ts';
import type { DatasetProfile } from './profile.ts';
import { Topics } from './topics.ts';

const profile: DatasetProfile = {
  datasetKey: 'sha256:abc',
  uri: 'builtin:iris',
  target: 'species',
  task: 'classification',
  rows: 150,
  numericColumns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  categoricalColumns: [],
  droppedColumns: [],
  featureCount: 4,
  classes: [
    { label: 'setosa', count: 50 },
    { label: 'versicolor', count: 50 },
    { label: 'virginica', count: 50 },
  ],
};
const configuration = { hiddenLayers: [{ units: 64, activation: 'relu' }], optimizer: 'adam' };
const kpi = { metric: 'accuracy' as const, target: 0.97 };
const metrics = { accuracy: 0.96, f1: 0.95, confusionMatrix: { size: 2, values: [10, 1, 0, 9] } };

/** One valid payload per message type of the flow. */
const examples: { [T in MessageType]: PayloadOf<T> } = {
  GET_CONFIGURATION: { datasetKey: 'sha256:abc', strategy: 'hybrid', kpi, profile, llmTokensLeft: 5000 },
  GENERATE_NEW_LLM_CONFIGURATION: {
    datasetKey: 'sha256:abc',
    strategy: 'llm',
    kpi,
    profile,
    history: { groups: [] },
    historyText: 'no earlier configurations',
    llmTokensLeft: 0,
  },
  NEW_LLM_CONFIGURATION_READY: {
    configurationId: 'c1',
    configuration,
    hash: 'h1',
    layerCount: 1,
    source: 'llm-repaired',
    rationale: 'wider than the best one-layer run',
    llm: { model: 'claude-sonnet-5-5', inputTokens: 2400, outputTokens: 180, latencyMs: 2931.5 },
    note: 'repaired after 1 rejected answer(s): ...',
  },
  GENERATE_MODEL: { configurationId: 'c1', configuration, profile, seed: 42 },
  MODEL_READY: { configurationId: 'c1', modelUri: 'file:///m/model.json', parameterCount: 515 },
  PREPARE_FEATURES: {
    dataset: { uri: 'builtin:iris' },
    datasetKey: 'sha256:abc',
    task: 'classification',
    split: { train: 0.7, validation: 0.15, test: 0.15 },
    seed: 42,
  },
  FEATURES_READY: {
    featuresUri: 'file:///f/manifest.json',
    featuresKey: 'f1',
    featureCount: 4,
    rows: { train: 105, validation: 22, test: 23 },
    reused: false,
  },
  RUN_MODEL: {
    configurationId: 'c1',
    configuration,
    modelUri: 'file:///m/model.json',
    featuresUri: 'file:///f/manifest.json',
    kpi,
    seed: 42,
  },
  PREDICTION_READY: {
    configurationId: 'c1',
    validation: metrics,
    test: metrics,
    epochsRun: 12,
    trainingMs: 1500,
    trainedModelUri: 'file:///m/trained/model.json',
  },
  PIPELINE_FINISHED: {
    outcome: 'succeeded',
    reason: 'accuracy 0.98 >= 0.97 at iteration 3',
    kpi,
    dataset: { uri: 'builtin:iris' },
    best: {
      iteration: 3,
      configurationId: 'c3',
      configuration,
      validation: metrics,
      test: metrics,
      modelUri: 'file:///m/trained/model.json',
    },
    iterationsUsed: 3,
    elapsedMs: 12000,
    llmTokens: 7740,
  },
  STAGE_FAILED: {
    stage: 'predict',
    failedType: 'RUN_MODEL',
    failedMessageId: 'm1',
    error: { name: 'TrainingDivergedError', code: 'NAN_LOSS', message: 'loss became NaN at epoch 3', retryable: false },
  },
  CANCEL_PIPELINE: { reason: 'wrong dataset' },
};

/** One payload per type that breaks one rule, and the field the error must name. */
const broken: { [T in MessageType]: [unknown, RegExp] } = {
  GET_CONFIGURATION: [{ ...examples.GET_CONFIGURATION, strategy: 'auto' }, /payload.strategy/],
  GENERATE_NEW_LLM_CONFIGURATION: [{ ...examples.GENERATE_NEW_LLM_CONFIGURATION, historyText: 3 }, /payload.historyText/],
  NEW_LLM_CONFIGURATION_READY: [{ ...examples.NEW_LLM_CONFIGURATION_READY, layerCount: 0 }, /payload.layerCount/],
  GENERATE_MODEL: [{ ...examples.GENERATE_MODEL, profile: { ...profile, rows: 0 } }, /payload.profile.rows/],
  MODEL_READY: [{ ...examples.MODEL_READY, modelUri: '' }, /payload.modelUri/],
  PREPARE_FEATURES: [{ ...examples.PREPARE_FEATURES, task: 'ranking' }, /payload.task/],
  FEATURES_READY: [{ ...examples.FEATURES_READY, rows: { train: 1, validation: 0, test: 1 } }, /payload.rows.validation/],
  RUN_MODEL: [{ ...examples.RUN_MODEL, kpi: { metric: 'speed', target: 1 } }, /payload.kpi.metric/],
  PREDICTION_READY: [{ ...examples.PREDICTION_READY, validation: { accuracy: Number.NaN } }, /payload.validation.accuracy/],
  PIPELINE_FINISHED: [{ ...examples.PIPELINE_FINISHED, outcome: 'done' }, /payload.outcome/],
  STAGE_FAILED: [{ ...examples.STAGE_FAILED, error: { message: 'x' } }, /payload.error/],
  CANCEL_PIPELINE: [{ reason: 'x'.repeat(501) }, /payload.reason/],
};

const init = { pipelineId: 'p1', iteration: 1, causationId: 'm0' };

describe('message catalog', () => {
  it('holds the eleven message types of the flow, STAGE_FAILED and CANCEL_PIPELINE', () => {
    expect(MESSAGE_TYPES.sort()).toEqual(
      [
        'GET_CONFIGURATION',
        'GENERATE_NEW_LLM_CONFIGURATION',
        'NEW_LLM_CONFIGURATION_READY',
        'GENERATE_MODEL',
        'MODEL_READY',
        'PREPARE_FEATURES',
        'FEATURES_READY',
        'RUN_MODEL',
        'PREDICTION_READY',
        'PIPELINE_FINISHED',
        'STAGE_FAILED',
        'CANCEL_PIPELINE',
      ].sort(),
    );
  });

  it('maps each type to the topic of the design', () => {
    expect(topicOf('GET_CONFIGURATION')).toBe('adaptive-pipeline-config-topic');
    expect(topicOf('GENERATE_NEW_LLM_CONFIGURATION')).toBe('adaptive-pipeline-config-topic');
    expect(topicOf('NEW_LLM_CONFIGURATION_READY')).toBe('adaptive-pipeline-config-topic');
    expect(topicOf('GENERATE_MODEL')).toBe('adaptive-pipeline-model-topic');
    expect(topicOf('MODEL_READY')).toBe('adaptive-pipeline-model-topic');
    expect(topicOf('PREPARE_FEATURES')).toBe('adaptive-pipeline-features-topic');
    expect(topicOf('FEATURES_READY')).toBe('adaptive-pipeline-features-topic');
    expect(topicOf('RUN_MODEL')).toBe('adaptive-pipeline-predict-topic');
    expect(topicOf('PREDICTION_READY')).toBe('adaptive-pipeline-predict-topic');
    expect(topicOf('PIPELINE_FINISHED')).toBe('adaptive-pipeline-notifications');
    expect(topicOf('CANCEL_PIPELINE')).toBe('adaptive-pipeline-workflow');
    expect(topicOf('STAGE_FAILED', Topics.predict)).toBe(Topics.predict);
    expect(() => topicOf('MODEL_READY', Topics.predict)).toThrow(InvalidMessageError);
    expect(() => topicOf('STAGE_FAILED', Topics.notifications)).toThrow(InvalidMessageError);
  });

  it.each(MESSAGE_TYPES)('%s: a created message parses back to itself', (type) => {
    const message = createMessage(type, { ...init, payload: examples[type] as never });
    expect(message).toMatchObject({ type, pipelineId: 'p1', iteration: 1, attempt: 1, causationId: 'm0', version: 1 });
    expect(message.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseMessage(JSON.stringify(message))).toEqual(message);
    expect(Catalog[type].schema.safeParse(message).success).toBe(true);
  });

  it.each(MESSAGE_TYPES)('%s: a payload that breaks a rule is rejected naming the field', (type) => {
    const [payload, field] = broken[type];
    expect(() => createMessage(type, { ...init, payload: payload as never })).toThrow(field);
    const raw = JSON.stringify({ ...createMessage(type, { ...init, payload: examples[type] as never }), payload });
    if (!raw.includes('null')) expect(() => parseMessage(raw)).toThrow(field);
  });

  it('takes the LLM fields as optional additions, so records without them still parse', () => {
    const { llm: _llm, note: _note, rationale: _rationale, ...bare } = examples.NEW_LLM_CONFIGURATION_READY;
    expect(createMessage('NEW_LLM_CONFIGURATION_READY', { ...init, payload: { ...bare, source: 'tpe' } }).payload).toEqual({ ...bare, source: 'tpe' });
    const { llmTokensLeft: _left, ...noBudget } = examples.GET_CONFIGURATION;
    expect(createMessage('GET_CONFIGURATION', { ...init, payload: noBudget }).payload).toEqual(noBudget);
    const { llmTokens: _tokens, ...noTokens } = examples.PIPELINE_FINISHED;
    expect(createMessage('PIPELINE_FINISHED', { ...init, payload: noTokens }).payload).toEqual(noTokens);
    const badUsage = { ...examples.NEW_LLM_CONFIGURATION_READY, llm: { model: 'm', inputTokens: -1, outputTokens: 0, latencyMs: 0 } };
    expect(() => createMessage('NEW_LLM_CONFIGURATION_READY', { ...init, payload: badUsage })).toThrow(/payload.llm.inputTokens/);
    expect(() => createMessage('GET_CONFIGURATION', { ...init, payload: { ...noBudget, llmTokensLeft: 1.5 } })).toThrow(/payload.llmTokensLeft/);
  });

  it('keeps a given id and attempt, so a re-sent command can be de-duplicated', () => {
    const message = createMessage('RUN_MODEL', { ...init, id: 'fixed', attempt: 2, payload: examples.RUN_MODEL });
    expect(message).toMatchObject({ id: 'fixed', attempt: 2 });
  });

  it('rejects records that are not JSON, have no envelope, or an unknown type', () => {
    expect(() => parseMessage('not json')).toThrow(/record is not JSON/);
    expect(() => parseMessage('{"type":"MODEL_READY"}')).toThrow(/invalid message envelope: id/);
    const envelope = createMessage('MODEL_READY', { ...init, payload: examples.MODEL_READY });
    expect(() => parseMessage({ ...envelope, type: 'TRAIN_HARDER' })).toThrow(/unknown message type "TRAIN_HARDER"/);
    expect(() => parseMessage({ ...envelope, iteration: -1 })).toThrow(/iteration/);
    expect(() => parseMessage({ ...envelope, createdAt: 'yesterday' })).toThrow(/createdAt/);
  });

  it('rejects a confusion matrix whose values do not fill size × size', () => {
    const payload = { ...examples.PREDICTION_READY, test: { confusionMatrix: { size: 2, values: [1, 2, 3] } } };
    expect(() => createMessage('PREDICTION_READY', { ...init, payload })).toThrow(/payload.test.confusionMatrix/);
  });
});
