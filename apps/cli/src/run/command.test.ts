import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '@apo/store';
import { run } from '../program.ts';

async function apo(cwd: string, ...args: string[]) {
  let out = '';
  let err = '';
  const code = await run(['node', 'apo', ...args], { out: (t) => void (out += t), err: (t) => void (err += t), tty: false, cwd });
  return { code, out, err };
}

describe('apo run', () => {
  it('trains until the KPI is met and prints every configuration tried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-run-'));
    const { code, out } = await apo(dir, 'run', '--dataset', 'builtin:iris', '--kpi', 'accuracy>=0.9', '--max-iterations', '15', '--data-dir', join(dir, '.apo'));
    expect(out).toMatch(/^backend: (wasm|cpu|tensorflow)/m);
    expect(out).toMatch(/^iteration 1: asking tpe for a configuration$/m);
    expect(out).toMatch(/^iteration 1: features ready \(\d+\/\d+\/\d+ rows\)$/m);
    expect(out).not.toContain('\r');
    expect(out).toMatch(/^outcome: succeeded$/m);
    expect(code).toBe(0);
    const rows = out.split('\n').filter((l) => /^\d+\s+\d+\s/.test(l));
    const iterations = Number(/^iterations: (\d+),/m.exec(out)![1]);
    expect(rows).toHaveLength(iterations);
    expect(out).toMatch(/^best: iteration \d+, validation accuracy (0\.9\d+|1\.0000) \(target >= 0\.9\), test accuracy \d\.\d{4}$/m);
  }, 300_000);

  it('--strategy llm without ANTHROPIC_API_KEY warns once and proposes with tpe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-run-'));
    const { code, out, err } = await apo(dir, 'run', '--strategy', 'llm', '--dataset', 'builtin:iris', '--kpi', 'accuracy>=0.5', '--max-iterations', '1', '--data-dir', join(dir, '.apo'));
    expect(err).toBe('warning: ANTHROPIC_API_KEY is not set, so --strategy llm proposes with tpe\n');
    expect(out).toMatch(/^iteration 1: tpe proposes /m);
    expect(code).toBe(0);
  }, 300_000);

    it('refuses bad input before any training, with exit code 2 and the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-run-'));
    writeFileSync(join(dir, 'one-class.csv'), 'a,b,label\n' + Array.from({ length: 20 }, (_, i) => `${i},${i * 2},yes`).join('\n'));
    const outside = await apo(dir, 'run', '--dataset', '../elsewhere.csv', '--kpi', 'accuracy>=0.9', '--data-dir', join(dir, '.apo'));
    expect(outside.code).toBe(2);
    expect(outside.out).toMatch(/^outcome: failed$/m);
    expect(outside.out).toMatch(/reason: .*outside/m);
    const oneClass = await apo(dir, 'run', '--dataset', 'one-class.csv', '--kpi', 'accuracy>=0.9', '--data-dir', join(dir, '.apo'));
    expect(oneClass.code).toBe(2);
    expect(oneClass.out).toMatch(/reason: .*yes/m);
    const badKpi = await apo(dir, 'run', '--dataset', 'builtin:iris', '--kpi', 'accuracy>=2', '--data-dir', join(dir, '.apo'));
    expect(badKpi.code).toBe(2);
    expect(badKpi.err).toMatch(/kpi.target: accuracy target must lie in \[0, 1\]/);
    const unknownMetric = await apo(dir, 'run', '--dataset', 'builtin:iris', '--kpi', 'speed>=0.9', '--data-dir', join(dir, '.apo'));
    expect(unknownMetric.code).toBe(2);
    expect(unknownMetric.err).toMatch(/kpi: unknown metric "speed"; one of accuracy, f1/);
    const wrongTask = await apo(dir, 'run', '--dataset', 'builtin:wine', '--kpi', 'rmse<=1', '--data-dir', join(dir, '.apo'));
    expect(wrongTask.code).toBe(2);
    expect(wrongTask.out).toMatch(/reason: kpi.metric "rmse" is a regression metric, but the target column "cultivar" is not numeric/);
    const missing = await apo(dir, 'run', '--dataset', 'missing.csv', '--kpi', 'accuracy>=0.9', '--data-dir', join(dir, '.apo'));
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/reason: dataset "missing.csv": no file at/);
    const noColumn = await apo(dir, 'run', '--dataset', 'one-class.csv', '--target', 'lable', '--kpi', 'accuracy>=0.9', '--data-dir', join(dir, '.apo'));
    expect(noColumn.code).toBe(2);
    expect(noColumn.out).toMatch(/reason: target column "lable" is not in the dataset; columns are "a", "b", "label"/);

    // Refused pipelines are recorded as such, and none of them tried a configuration.
    const store = SqliteStore.open({ dataDir: join(dir, '.apo') });
    try {
      const refused = await store.listPipelines();
      expect(refused).toHaveLength(5);
      for (const p of refused) {
        expect(p).toMatchObject({ status: 'finished', outcome: 'failed', iteration: 0 });
        expect(await store.listConfigurations({ pipelineId: p.id })).toEqual([]);
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
