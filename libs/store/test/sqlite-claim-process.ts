// Run by sqlite.test.ts in several processes at once, all on one database file: each claims every
// tick, marks every message and saves a result for every configuration, and reports what it won.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { SqliteStore } from '../src/sqlite.ts';

const [filename = '', scheduleName = '', owner = '', tickCount = '0'] = process.argv.slice(2);
const store = SqliteStore.open({ filename });
process.stdout.write('ready\n');
// The go is a line on stdin naming the instant to start at, so that every process starts at once.
// stdin stays open: Vite (under vite-node) exits when stdin ends.
const [go] = (await once(process.stdin, 'data')) as [Buffer];
process.stdin.pause();
const startAt = Number(go.toString().trim());
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now() - 5)));
while (Date.now() < startAt) {
  // Spin the last milliseconds: timers are not that precise.
}

const ticks: number[] = [];
let marks = 0;
for (let i = 0; i < Number(tickCount); i++) {
  const tickAt = new Date(Date.UTC(2030, 0, 1, 0, i)).toISOString();
  if (await store.claimScheduleTick(scheduleName, tickAt, owner, null)) ticks.push(i);
  if (await store.markProcessed(scheduleName, `message-${i}`, new Date(Date.now() + 60_000))) marks += 1;
  await store.saveResult({
    id: randomUUID(),
    pipelineId: scheduleName,
    iteration: i,
    configurationId: `${scheduleName}-configuration-${i}`,
    datasetKey: scheduleName,
    layerCount: 1,
    status: 'succeeded',
    validation: { accuracy: 0.5 },
    test: null,
    trainingMs: 1,
    epochsRun: 1,
    modelUri: null,
    error: null,
    createdAt: new Date().toISOString(),
  });
}
await store.close();
process.stdout.write(`${JSON.stringify({ ticks, marks })}\n`);
