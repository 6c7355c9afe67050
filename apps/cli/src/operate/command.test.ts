import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Io } from '../program.ts';

let root: string;
let dataDir: string;

async function apo(args: string[], io: Partial<Io> = {}) {
  let out = '';
  let err = '';
  const code = await run(['node', 'apo', ...args], { out: (t) => void (out += t), err: (t) => void (err += t), tty: false, cwd: root, ...io });
  return { code, out, err };
}

// Two finished pipelines in one data directory: one met its KPI, one spent its budget.
let met: string;
let spent: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'apo-operate-'));
  dataDir = join(root, '.apo');
  const pipelineOf = (out: string) => /^pipeline (\S+)$/m.exec(out)![1]!;
  const first = await apo(['run', '--dataset', 'builtin:iris', '--kpi', 'accuracy>=0.5', '--max-iterations', '3', '--data-dir', dataDir]);
  expect(first.code, first.err).toBe(0);
  met = pipelineOf(first.out);
  const second = await apo(['run', '--dataset', 'builtin:diabetes', '--kpi', 'rmse<=1', '--max-iterations', '1', '--data-dir', dataDir]);
  expect(second.code, second.err).toBe(3);
  spent = pipelineOf(second.out);
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('apo list, status and watch on a data directory', () => {
  it('lists pipelines newest first with their state, KPI and best validation value', async () => {
    const { code, out } = await apo(['list', '--data-dir', dataDir]);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[1]).toMatch(/\sbudget_exhausted\s+rmse<=1\s+builtin:diabetes\s+1\s/);
    expect(lines[0]).toMatch(/^id\s+state\s+kpi\s+dataset\s+iterations\s+best validation\s+started$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([spent, met]);
    expect(lines[2]).toMatch(/\ssucceeded\s+accuracy>=0\.5\s+builtin:iris\s+\d+\s+\d\.\d{4} \(iteration \d+\)\s/);
    expect((await apo(['list', '--running', '--data-dir', dataDir])).out).toBe('no pipelines\n');
    const json = JSON.parse((await apo(['list', '--json', '--limit', '1', '--data-dir', dataDir])).out) as { id: string }[];
    expect(json.map((p) => p.id)).toEqual([spent]);
  });

  it('shows one pipeline with every configuration tried, exit code as apo run', async () => {
    const shown = await apo(['status', met, '--data-dir', dataDir]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^pipeline ${met}\nstate: succeeded, accuracy .* meets the target 0\\.5`));
    expect(shown.out).toMatch(/^best: iteration 1, validation accuracy \d\.\d{4}, test \d\.\d{4}$/m);
    expect(shown.out).toMatch(/^model: file:\/\/.*model\.json$/m);
    expect(shown.out).toMatch(/^iter\s+layers\s+units/m);
    expect(shown.out).toMatch(/^1\s+\d+\s+[\d-]+\s+\S+\s+(adam|rmsprop|sgd)\s/m);

    const budget = await apo(['status', spent, '--data-dir', dataDir]);
    expect(budget.code).toBe(3);
    expect(budget.out).toMatch(/^state: budget_exhausted/m);
    expect(budget.out).toMatch(/^kpi: rmse<=1 on builtin:diabetes, strategy /m);
    const json = JSON.parse((await apo(['status', spent, '--json', '--data-dir', dataDir])).out) as { pipeline: { id: string }; configurations: unknown[]; results: unknown[] };
    expect(json.pipeline.id).toBe(spent);
    expect(json.configurations).toHaveLength(1);
    expect(json.results).toHaveLength(1);
  });

  it('watch of a finished pipeline prints its results and ends with its exit code', async () => {
    const watched = await apo(['watch', spent, '--data-dir', dataDir, '--interval', '50']);
    expect(watched.code).toBe(3);
    expect(watched.out).toMatch(/^iteration 1: validation rmse \d+\.\d{4}, test \d+\.\d{4}$/m);
    expect(watched.out).toMatch(/^state: budget_exhausted/m);
  });

  it('status names an unknown pipeline, exit code 2', async () => {
    const r = await apo(['status', 'no-such-id', '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 2, err: 'no pipeline with id or request id "no-such-id" (apo list shows them)\n' });
  });

  it('cancel refuses a finished or unknown pipeline before connecting to Kafka', async () => {
    const done = await apo(['cancel', met, '--data-dir', dataDir, '--brokers', '127.0.0.1:1']);
    expect(done).toMatchObject({ code: 2, err: `pipeline ${met} already finished (succeeded); nothing to cancel\n` });
    const unknown = await apo(['cancel', 'no-such-id', '--data-dir', dataDir, '--brokers', '127.0.0.1:1']);
    expect(unknown.code).toBe(2);
  });

  it('start refuses a bad start message before connecting to Kafka', async () => {
    // No broker listens on this port: a refusal must come from the check, not from a timeout.
    const r = await apo(['start', '{"kpi":"rmse>=3","dataset":"builtin:diabetes"}', '--brokers', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^invalid start message: kpi: rmse is minimised/);
  });
});
