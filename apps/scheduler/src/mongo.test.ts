import { randomUUID } from 'node:crypto';
import { InMemoryBus } from '@apo/bus';
import { Topics } from '@apo/messages';
import { silentLogger } from '@apo/runtime';
import { MongoStore } from '@apo/store';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { defineSchedule } from './definition.ts';
import { Scheduler } from './scheduler.ts';

const uri = inject('MONGODB_URI');
const dbName = `apo_scheduler_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
let admin: MongoClient;

beforeAll(async () => {
  admin = await MongoClient.connect(uri);
});

afterAll(async () => {
  await admin.db(dbName).dropDatabase();
  await admin.close();
});

it('two replicas on MongoDB start once per tick, and once after a downtime', async () => {
  // Each replica has its own client, as two scheduler processes would.
  const [a, b] = await Promise.all([MongoStore.connect({ uri, dbName }), MongoStore.connect({ uri, dbName })]);
  const bus = new InMemoryBus();
  const requestIds: string[] = [];
  await bus.subscribe({
    groupId: 'observer',
    topics: [Topics.workflow],
    handler: async (record) => void requestIds.push((JSON.parse(record.value) as { requestId: string }).requestId),
  });
  const clock = { time: new Date('2030-01-01T00:00:30Z'), now: () => clock.time };
  const replicas = [a, b].map((store, i) => new Scheduler({ store, bus, logger: silentLogger(), owner: `replica-${i}`, clock }));
  try {
    const start = { kpi: 'accuracy>=0.9', dataset: 'builtin:iris' };
    await a.putSchedule(defineSchedule({ name: 'mongo-minute', cron: '* * * * *', start }, clock.now()));
    for (const iso of ['2030-01-01T00:01:00Z', '2030-01-01T00:02:00Z', '2030-01-01T00:09:10Z', '2030-01-01T00:10:00Z']) {
      clock.time = new Date(iso);
      await Promise.all(replicas.flatMap((r) => [r.tick(), r.tick()]));
    }
    await bus.whenIdle();
    expect(requestIds).toEqual(['01', '02', '03', '10'].map((m) => `mongo-minute@2030-01-01T00:${m}:00.000Z`));
  } finally {
    await bus.close();
    await Promise.all([a.close(), b.close()]);
  }
});
