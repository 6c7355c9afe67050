import { describe, expect, it } from 'vitest';
import { BusClosedError } from './bus-closed-error.ts';
import { InMemoryBus } from './in-memory.ts';
import { busContractSuite } from './testing.ts';

busContractSuite('in-memory', async () => new InMemoryBus(), { timeoutMs: 5_000, quietMs: 100 });

describe('in-memory bus', () => {
  it('whenIdle waits until every group has handled every record', async () => {
    const bus = new InMemoryBus();
    const handled: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (r) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        handled.push(r.value);
      },
    });
    await bus.publish('t', ['1', '2', '3'].map((value) => ({ key: 'k', value })));
    await bus.whenIdle();
    expect(handled).toEqual(['1', '2', '3']);
    await bus.close();
  });

  it('refuses work once closed, and close waits for the handler in progress', async () => {
    const bus = new InMemoryBus();
    let finished = false;
    let started = false;
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished = true;
      },
    });
    await bus.publish('t', [{ key: null, value: 'x' }]);
    while (!started) await new Promise((resolve) => setTimeout(resolve, 1));
    await bus.close();
    expect(finished).toBe(true);
    await expect(bus.publish('t', [{ key: null, value: 'y' }])).rejects.toBeInstanceOf(BusClosedError);
  });
});
