import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryBus, type Bus, type OutgoingRecord } from '@apo/bus';
import { Topics, parseMessage, parseStartMessage } from '@apo/messages';
import { silentLogger } from '@apo/runtime';
import { SqliteStore, type Store } from '@apo/store';
import { describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/run/embedded.ts';

/** Delivers every record twice, as Kafka may after a consumer restarts before its commit. */
class TwiceBus extends InMemoryBus {
  override async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    await super.publish(topic, records);
    await super.publish(topic, records);
  }
}

/**
 * A store that forgets each processed message once, so every message reaches its handler twice:
 * the case of a stage that crashed after publishing its replies but before recording the message.
 */
let redelivered = 0;
function forgetsOnce(store: Store): Store {
  const forgotten = new Set<string>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'isProcessed') {
        return async (groupId: string, messageId: string) => {
          if (!(await target.isProcessed(groupId, messageId))) return false;
          const key = `${groupId}\u0000${messageId}`;
          if (forgotten.has(key)) return true;
          forgotten.add(key);
          redelivered += 1;
          return false;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Runs one pipeline to its end and returns the database state a user could see, ids aside. */
async function runPipeline(bus: Bus, wrap: (s: Store) => Store) {
  const dataDir = mkdtempSync(join(tmpdir(), 'apo-idem-'));
  const store = SqliteStore.open({ dataDir });
  const embedded = await startEmbedded({ dataDir, dataRoot: dataDir, logger: silentLogger(), bus, store: wrap(store) });
  let finishedMessages = 0;
  try {
    const done = new Promise<void>((resolve) => {
      void bus.subscribe({
        groupId: 'observer',
        topics: [Topics.notifications],
        handler: async (record) => {
          if (parseMessage(record.value).type === 'PIPELINE_FINISHED') {
            finishedMessages += 1;
            resolve();
          }
        },
      });
    });
    const start = parseStartMessage({
      kpi: 'accuracy>=0.999',
      dataset: 'builtin:breast-cancer',
      budget: { maxIterations: 3 },
      requestId: 'same-start',
    });
    await bus.publish(Topics.workflow, [{ key: 'same-start', value: JSON.stringify(start), headers: {} }]);
    await done;
    await (bus as InMemoryBus).whenIdle();

    const [pipeline, ...others] = await store.listPipelines();
    const pid = pipeline!.id;
    const strip = <T extends object>(record: T) =>
      JSON.parse(JSON.stringify(record, (key, value: unknown) => (['createdAt', 'updatedAt', 'finishedAt'].includes(key) ? undefined : value)).replaceAll(pid, 'PID').replaceAll(dataDir, 'DATA')) as T;
    return {
      others: others.length,
      finishedMessages,
      pipeline: strip({ ...pipeline!, version: undefined, state: undefined }),
      configurations: (await store.listConfigurations({ pipelineId: pid })).map(strip),
      results: (await store.listResults({ pipelineId: pid })).map((r) => strip({ ...r, trainingMs: undefined })),
      artifacts: (await embedded.artifacts.list('')).map((key) => key.replaceAll(pid, 'PID')).sort(),
    };
  } finally {
    await embedded.close();
  }
}

describe('at-least-once delivery', () => {
  it('every message of a full run delivered twice leaves the same database state as delivered once', async () => {
    const once = await runPipeline(new InMemoryBus(), (s) => s);
    const twice = await runPipeline(new TwiceBus(), forgetsOnce);

    expect(once.configurations.length).toBeGreaterThan(1);
    // Every stage saw its messages again. The types handled without processed-message records
    // (the orchestrator's replies, the config and llm requests) reach their handler twice as the
    // bus delivers them twice; the recorded ones were forgotten once each: GENERATE_MODEL,
    // PREPARE_FEATURES and RUN_MODEL of 3 iterations, and the start.
    expect(redelivered).toBeGreaterThanOrEqual(3 * 3 + 1);
    expect(twice.others).toBe(0);
    expect(twice.pipeline).toEqual(once.pipeline);
    expect(twice.configurations).toEqual(once.configurations);
    // One result per configuration: no configuration was trained twice into a second result.
    expect(twice.results).toEqual(once.results);
    expect(twice.artifacts).toEqual(once.artifacts);
    // The notification itself may be repeated (it is idempotent for readers); the end is the same.
    expect(twice.finishedMessages).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
