import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusRecord } from '@apo/bus';
import { Topics, parseMessage, type DeadLetterRecord, type PipelineFinished } from '@apo/messages';
import { silentLogger } from '@apo/runtime';
import { describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/run/embedded.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start messages typed into a Kafka tool, good and bad, on the bus of the embedded stages: each
 * bad one gets a reason naming the field (dead-letter, or a finished pipeline that tried
 * nothing), and a normal pipeline started alongside is not disturbed.
 */
describe('raw start messages on the workflow topic', () => {
  it('each bad start gets a clear reason, nothing is half-created, and the good pipeline succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-start-'));
    writeFileSync(join(dir, 'churn.csv'), 'tenure,plan,churned\n' + Array.from({ length: 60 }, (_, i) => `${i},${i % 3 ? 'a' : 'b'},${i % 2 ? 'yes' : 'no'}`).join('\n'));
    const embedded = await startEmbedded({ dataDir: join(dir, '.apo'), dataRoot: dir, logger: silentLogger() });
    try {
      const deadLetters: DeadLetterRecord[] = [];
      const finished = new Map<string, PipelineFinished>();
      await embedded.bus.subscribe({
        groupId: 'observer',
        topics: [Topics.deadLetter, Topics.notifications],
        handler: async (record: BusRecord) => {
          if (record.topic === Topics.deadLetter) deadLetters.push(JSON.parse(record.value) as DeadLetterRecord);
          else {
            const m = parseMessage(record.value);
            if (m.type === 'PIPELINE_FINISHED') finished.set(m.payload.requestId ?? m.pipelineId, m.payload);
          }
        },
      });
      const start = (requestId: string, fields: Record<string, unknown>) =>
        JSON.stringify({ type: 'ADAPTIVE_PIPELINE_START', requestId, ...fields });
      const typed = [
        start('good', { kpi: 'accuracy>=0.9', dataset: 'builtin:iris' }),
        '{"type":"ADAPTIVE_PIPELINE_START","kpi":"accuracy>=0.9",',
        start('unknown-metric', { kpi: 'acuracy>=0.9', dataset: 'builtin:iris' }),
        start('ratio-target', { kpi: { metric: 'accuracy', target: 97 }, dataset: 'builtin:iris' }),
        start('wrong-task', { kpi: 'rmse<=1', dataset: 'builtin:iris' }),
        start('missing-file', { kpi: 'accuracy>=0.9', dataset: 'nowhere.csv' }),
        start('unknown-target', { kpi: 'accuracy>=0.9', dataset: { uri: 'churn.csv', target: 'churn' } }),
      ];
      await embedded.bus.publish(
        Topics.workflow,
        typed.map((value) => ({ key: null, value, headers: {} })),
      );
      for (let waited = 0; !finished.has('good') && waited < 120_000; waited += 50) await sleep(50);
      await sleep(200);

      // Records that are not a valid start message: dead-lettered with the field and the value.
      expect(deadLetters.map((d) => d.reason)).toEqual([
        expect.stringMatching(/JSON/i),
        expect.stringMatching(/kpi: unknown metric "acuracy"/),
        expect.stringMatching(/kpi.target: accuracy target must lie in \[0, 1\] \(got 97\)/),
      ]);
      expect(deadLetters.every((d) => d.topic === Topics.workflow)).toBe(true);

      // Valid messages naming input that cannot be used: finished at once, with the reason.
      expect(finished.get('wrong-task')).toMatchObject({ outcome: 'failed', iterationsUsed: 0, best: null });
      expect(finished.get('wrong-task')!.reason).toMatch(/kpi.metric "rmse" is a regression metric, but the target column "species"/);
      expect(finished.get('missing-file')!.reason).toMatch(/dataset "nowhere.csv": no file at/);
      expect(finished.get('unknown-target')!.reason).toMatch(/target column "churn" is not in the dataset; columns are "tenure", "plan", "churned"/);
      expect(finished.get('good')).toMatchObject({ outcome: 'succeeded' });

      // Nothing half-created: a refused pipeline is one finished record, with nothing tried.
      const pipelines = await embedded.store.listPipelines();
      expect(pipelines.map((p) => p.requestId).sort()).toEqual(['good', 'missing-file', 'unknown-target', 'wrong-task']);
      for (const p of pipelines.filter((p) => p.requestId !== 'good')) {
        expect(p).toMatchObject({ status: 'finished', outcome: 'failed', iteration: 0 });
        expect(await embedded.store.listConfigurations({ pipelineId: p.id })).toEqual([]);
        expect(await embedded.store.listResults({ pipelineId: p.id })).toEqual([]);
      }
    } finally {
      await embedded.close();
    }
  }, 180_000);
});
