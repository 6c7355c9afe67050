import { InMemoryBus, type BusRecord } from '@apo/bus';
import { Topics, createMessage, type AnyMessage } from '@apo/messages';
import { describe, expect, it } from 'vitest';
import { silentLogger } from './logger.ts';
import { runPeriodic } from './periodic.ts';

const cancel = (n: number): AnyMessage =>
  createMessage('CANCEL_PIPELINE', { id: `c${n}`, pipelineId: 'p1', iteration: 0, payload: { reason: `run ${n}` } });

describe('runPeriodic', () => {
  it('runs at once and then again after each run, publishes what each run returns, survives a failed run, and stops on close', async () => {
    const bus = new InMemoryBus();
    const seen: string[] = [];
    await bus.subscribe({ groupId: 'o', topics: [Topics.workflow], handler: async (r: BusRecord) => void seen.push(r.headers['id']!) });
    let runs = 0;
    let overlapping = 0;
    let active = 0;
    const periodic = runPeriodic({
      everyMs: 5,
      bus,
      logger: silentLogger(),
      task: async () => {
        runs += 1;
        active += 1;
        overlapping = Math.max(overlapping, active);
        await new Promise((r) => setTimeout(r, 10));
        active -= 1;
        if (runs === 2) throw new Error('store unreachable');
        return [cancel(runs)];
      },
    });
    await periodic.started;
    expect(runs).toBe(1);
    while (runs < 4) await new Promise((r) => setTimeout(r, 5));
    await periodic.close();
    const after = runs;
    await new Promise((r) => setTimeout(r, 30));
    await bus.whenIdle();
    expect(runs).toBe(after);
    expect(overlapping).toBe(1);
    expect(seen.slice(0, 3)).toEqual(['c1', 'c3', 'c4']);
    await bus.close();
  });
});
