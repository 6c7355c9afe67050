import { describe, expect, it } from 'vitest';
import { iterationDag, markDone, markResent, markSent, newSteps, overdue, readySteps, waitedMs } from './dag.ts';

const dag = iterationDag({ train: { timeoutMs: 1_000, retries: 2 } });
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('iteration DAG', () => {
  it('configures first, then builds and prepares side by side, and trains only after both', () => {
    let steps = newSteps(dag);
    expect(readySteps(dag, steps)).toEqual(['configure']);
    steps = markSent(dag, steps, ['configure'], 'start', t0);
    expect(readySteps(dag, steps)).toEqual([]);
    steps = markDone(steps, 'configure');
    expect(readySteps(dag, steps)).toEqual(['build', 'prepare']);
    steps = markDone(markSent(dag, steps, ['build', 'prepare'], 'ready', t0), 'build');
    expect(readySteps(dag, steps)).toEqual([]);
    steps = markDone(steps, 'prepare');
    expect(readySteps(dag, steps)).toEqual(['train']);
  });

  it('a step past its deadline is sent again with a longer wait each time, then expires', () => {
    let steps = markSent(dag, newSteps(dag), ['train'], 'x', t0);
    expect(steps.train).toMatchObject({ status: 'sent', attempts: 1, cause: 'x', deadline: at(1_000).toISOString() });
    expect(overdue(dag, steps, at(999))).toEqual({ resend: [], expired: null });
    expect(overdue(dag, steps, at(1_000))).toEqual({ resend: ['train'], expired: null });
    steps = markResent(dag, steps, 'train', at(1_000));
    // The default backoff of training doubles the wait: 2 s after the second send.
    expect(steps.train.deadline).toBe(at(1_000 + 1_000 * dag.find((s) => s.name === 'train')!.backoff).toISOString());
    steps = markResent(dag, steps, 'train', at(10_000));
    expect(steps.train.attempts).toBe(3);
    expect(overdue(dag, steps, at(100_000))).toEqual({ resend: [], expired: 'train' });
    expect(overdue(dag, markDone(steps, 'train'), at(100_000))).toEqual({ resend: [], expired: null });
  });

  it('keeps the defaults of steps not overridden, and adds up the wait over every send', () => {
    const defaults = iterationDag();
    expect(dag.find((s) => s.name === 'configure')).toEqual(defaults.find((s) => s.name === 'configure'));
    expect(waitedMs({ ...dag[0]!, timeoutMs: 1_000, backoff: 2 }, 3)).toBe(7_000);
  });
});
