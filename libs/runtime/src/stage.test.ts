import { Writable } from 'node:stream';
import { InMemoryBus, type BusRecord } from '@apo/bus';
import {
  InvalidInputError,
  TransientError,
  Topics,
  createMessage,
  type AnyMessage,
  type MessageOf,
} from '@apo/messages';
import { SqliteStore } from '@apo/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { MAX_RECORD_BYTES, runStage, type StageHandlers } from './stage.ts';

const modelReady = (configurationId = 'c1') =>
  createMessage('GENERATE_MODEL', {
    pipelineId: 'p1',
    iteration: 2,
    causationId: 'prev',
    payload: {
      configurationId,
      configuration: { hiddenLayers: [{ units: 8, activation: 'relu' }] },
      seed: 1,
      profile: {
        datasetKey: 'k',
        uri: 'builtin:iris',
        target: 'species',
        task: 'classification',
        rows: 150,
        numericColumns: ['a'],
        categoricalColumns: [],
        droppedColumns: [],
        featureCount: 4,
      },
    },
  });

let bus: InMemoryBus;
let store: SqliteStore;
let lines: Record<string, unknown>[];
const seen: Record<string, BusRecord[]> = {};

function logger() {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return createLogger({ name: 'test', level: 'debug', destination });
}

async function watch(topic: string) {
  seen[topic] = [];
  await bus.subscribe({ groupId: `watch-${topic}`, topics: [topic], handler: async (r) => void seen[topic]!.push(r) });
}

async function start(handlers: StageHandlers) {
  return runStage({ stage: 'build-model', bus, processed: store, handlers, logger: logger(), retryBackoffMs: 5 });
}

const publish = (topic: string, value: string, key = 'p1', headers: Record<string, string> = {}) =>
  bus.publish(topic, [{ key, value, headers }]);

const parsed = (topic: string) => (seen[topic] ?? []).map((r) => JSON.parse(r.value) as AnyMessage);

beforeEach(async () => {
  bus = new InMemoryBus();
  store = SqliteStore.open({ filename: ':memory:' });
  lines = [];
  await watch(Topics.model);
  await watch(Topics.deadLetter);
});

afterEach(async () => {
  await bus.close();
  await store.close();
});

describe('runStage', () => {
  it('hands a typed message to its handler and publishes the replies keyed by pipeline id', async () => {
    const got: MessageOf<'GENERATE_MODEL'>[] = [];
    await start({
      GENERATE_MODEL: async (message, ctx) => {
        got.push(message);
        return [ctx.reply('MODEL_READY', { configurationId: message.payload.configurationId, modelUri: 'file:///m', parameterCount: 10 })];
      },
    });
    const command = modelReady();
    await publish(Topics.model, JSON.stringify(command));
    await bus.whenIdle();
    expect(got).toHaveLength(1);
    expect(got[0]!.payload.profile.rows).toBe(150);
    const reply = seen[Topics.model]!.find((r) => r.headers['type'] === 'MODEL_READY')!;
    expect(reply.key).toBe('p1');
    expect(JSON.parse(reply.value)).toMatchObject({
      type: 'MODEL_READY',
      pipelineId: 'p1',
      iteration: 2,
      causationId: command.id,
      payload: { modelUri: 'file:///m' },
    });
    expect(reply.headers['id']).toBe(JSON.parse(reply.value).id);
  });

  it('sets aside records that do not parse or fail their schema, and keeps consuming', async () => {
    let handled = 0;
    await start({ GENERATE_MODEL: async () => void (handled += 1) });
    await publish(Topics.model, '{"this is": not json');
    const bad = { ...modelReady(), payload: { ...modelReady().payload, seed: -3 } };
    await publish(Topics.model, JSON.stringify(bad));
    await publish(Topics.model, JSON.stringify({ ...modelReady(), type: 'BUILD_IT' }));
    await publish(Topics.model, JSON.stringify(modelReady()));
    await bus.whenIdle();
    expect(handled).toBe(1);
    const reasons = seen[Topics.deadLetter]!.map((r) => JSON.parse(r.value).reason);
    expect(reasons).toEqual([
      expect.stringMatching(/not JSON/),
      expect.stringMatching(/payload.seed/),
      expect.stringMatching(/unknown message type "BUILD_IT"/),
    ]);
    expect(JSON.parse(seen[Topics.deadLetter]![0]!.value)).toMatchObject({
      topic: Topics.model,
      consumerGroup: 'adaptive-pipeline-build-model',
      value: '{"this is": not json',
    });
  });

  it('handles a redelivered message once', async () => {
    let handled = 0;
    await start({ GENERATE_MODEL: async () => void (handled += 1) });
    const command = JSON.stringify(modelReady());
    await publish(Topics.model, command);
    await bus.whenIdle();
    await publish(Topics.model, command);
    await bus.whenIdle();
    expect(handled).toBe(1);
    expect(await store.isProcessed('adaptive-pipeline-build-model', JSON.parse(command).id)).toBe(true);
  });

  it('handles a command sent again (next attempt, same id) again, so its reply goes out again; a copy of that attempt once', async () => {
    let handled = 0;
    await start({
      GENERATE_MODEL: async (message, ctx) => {
        handled += 1;
        return [ctx.reply('MODEL_READY', { configurationId: message.payload.configurationId, modelUri: 'file:///m', parameterCount: 10 })];
      },
    });
    const first = modelReady();
    const again = JSON.stringify({ ...first, attempt: 2 });
    await publish(Topics.model, JSON.stringify(first));
    await bus.whenIdle();
    await publish(Topics.model, again);
    await bus.whenIdle();
    await publish(Topics.model, again);
    await bus.whenIdle();
    expect(handled).toBe(2);
    const replies = parsed(Topics.model).filter((m) => m.type === 'MODEL_READY');
    expect(replies.map((m) => m.id)).toEqual([`${first.id}/MODEL_READY`, `${first.id}/MODEL_READY`]);
  });

  it('hands a redelivered message of a type declared idempotent to its handler again, and keeps no record of it', async () => {
    let handled = 0;
    await runStage({
      stage: 'build-model',
      bus,
      processed: store,
      logger: logger(),
      idempotent: ['GENERATE_MODEL'],
      handlers: { GENERATE_MODEL: async () => void (handled += 1) },
    });
    const command = JSON.stringify(modelReady());
    await publish(Topics.model, command);
    await bus.whenIdle();
    await publish(Topics.model, command);
    await bus.whenIdle();
    expect(handled).toBe(2);
    expect(await store.isProcessed('adaptive-pipeline-build-model', JSON.parse(command).id)).toBe(false);
  });

  it('reports a failure no retry can help as STAGE_FAILED at once', async () => {
    let calls = 0;
    await start({
      GENERATE_MODEL: async () => {
        calls += 1;
        throw new InvalidInputError('featureCount 4 does not match the configuration');
      },
    });
    const command = modelReady('c-9');
    await publish(Topics.model, JSON.stringify(command));
    await bus.whenIdle();
    expect(calls).toBe(1);
    const failed = parsed(Topics.model).filter((m) => m.type === 'STAGE_FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      pipelineId: 'p1',
      iteration: 2,
      causationId: command.id,
      payload: {
        stage: 'build-model',
        failedType: 'GENERATE_MODEL',
        failedMessageId: command.id,
        configurationId: 'c-9',
        error: { name: 'InvalidInputError', retryable: false, message: 'featureCount 4 does not match the configuration' },
      },
    });
    expect(seen[Topics.deadLetter]).toHaveLength(0);
  });

  it('retries a retryable failure, then reports STAGE_FAILED marked retryable', async () => {
    let calls = 0;
    await start({
      GENERATE_MODEL: async () => {
        calls += 1;
        throw new TransientError('artifact store unavailable');
      },
    });
    await publish(Topics.model, JSON.stringify(modelReady()));
    await bus.whenIdle();
    expect(calls).toBe(3);
    const failed = parsed(Topics.model).filter((m) => m.type === 'STAGE_FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload).toMatchObject({ error: { retryable: true, code: 'TRANSIENT' } });
    expect(seen[Topics.deadLetter]).toHaveLength(0);
  });

  it('publishes the replies of a handler that succeeds on a retry, and no failure', async () => {
    let calls = 0;
    await start({
      GENERATE_MODEL: async (message, ctx) => {
        calls += 1;
        if (calls === 1) throw new Error('socket hang up');
        return [ctx.reply('MODEL_READY', { configurationId: message.payload.configurationId, modelUri: 'file:///m', parameterCount: 1 })];
      },
    });
    await publish(Topics.model, JSON.stringify(modelReady()));
    await bus.whenIdle();
    expect(parsed(Topics.model).map((m) => m.type)).toEqual(['GENERATE_MODEL', 'MODEL_READY']);
  });

  it('ignores message types the stage does not handle', async () => {
    let handled = 0;
    await start({ GENERATE_MODEL: async () => void (handled += 1) });
    const other = createMessage('MODEL_READY', {
      pipelineId: 'p1',
      iteration: 1,
      payload: { configurationId: 'c', modelUri: 'file:///m', parameterCount: 1 },
    });
    await publish(Topics.model, JSON.stringify(other));
    await bus.whenIdle();
    expect(handled).toBe(0);
    expect(seen[Topics.deadLetter]).toHaveLength(0);
  });

  it('reads the start message a person typed, and dead-letters one with a bad field', async () => {
    await watch(Topics.workflow);
    const starts: unknown[] = [];
    await runStage({
      stage: 'orchestrator',
      bus,
      processed: store,
      logger: logger(),
      handlers: { ADAPTIVE_PIPELINE_START: async (start) => void starts.push(start) },
    });
    await publish(Topics.workflow, '{"kpi":"accuracy>=0.9","dataset":"builtin:iris","requestId":"r-1"}', 'r-1');
    await publish(Topics.workflow, '{"kpi":"accuracy>=0.9","dataset":"builtin:iris","requestId":"r-1"}', 'r-1');
    await publish(Topics.workflow, '{"kpi":"accuracy>=9","dataset":"builtin:iris"}', 'x');
    await bus.whenIdle();
    expect(starts).toEqual([expect.objectContaining({ requestId: 'r-1', kpi: { metric: 'accuracy', target: 0.9 } })]);
    const dead = seen[Topics.deadLetter]!.map((r) => JSON.parse(r.value).reason);
    expect(dead).toEqual([expect.stringMatching(/kpi.target: accuracy target must lie in \[0, 1\] \(got 9\)/)]);
  });

  it('dead-letters an oversized record unread, and goes on with the next', async () => {
    let handled = 0;
    await start({ GENERATE_MODEL: async () => void (handled += 1) });
    const command = modelReady();
    const huge = JSON.stringify({ ...command, id: 'huge', payload: { ...command.payload, padding: 'x'.repeat(MAX_RECORD_BYTES) } });
    await publish(Topics.model, huge);
    await publish(Topics.model, JSON.stringify(command));
    await bus.whenIdle();
    expect(handled).toBe(1);
    const dead = seen[Topics.deadLetter]!.map((r) => JSON.parse(r.value).reason);
    expect(dead).toEqual([`record of ${Buffer.byteLength(huge)} bytes is larger than the ${MAX_RECORD_BYTES} bytes a message may have`]);
  });

  it('logs with the pipeline id, iteration and message id on every line of a handler', async () => {
    await start({
      GENERATE_MODEL: async (_message, ctx) => {
        ctx.logger.info('building');
      },
    });
    const command = modelReady();
    await publish(Topics.model, JSON.stringify(command));
    await bus.whenIdle();
    const line = lines.find((l) => l['msg'] === 'building');
    expect(line).toMatchObject({ stage: 'build-model', pipelineId: 'p1', iteration: 2, messageId: command.id, type: 'GENERATE_MODEL' });
  });
});
