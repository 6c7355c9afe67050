import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@apo/store';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/apo.mjs', import.meta.url));

/** Runs `apo` as a user would: a child process with its own working directory. */
function apo(cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0', ANTHROPIC_API_KEY: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

interface RunJson {
  pipelineId: string;
  outcome: string;
  iterationsUsed: number;
  best: { iteration: number; validation: Record<string, number>; test: Record<string, number>; modelUri: string } | null;
}

/** The saved model a user would load: topology and weights next to each other on disk. */
function expectSavedModel(uri: string) {
  const modelJson = fileURLToPath(uri);
  const model = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const weights = join(dirname(modelJson), model.weightsManifest[0]!.paths[0]!);
  expect(statSync(weights).size).toBeGreaterThan(0);
}

describe('apo run as a child process', () => {
  it('reaches the KPI, saves everything it tried, and a second run starts from that history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-e2e-'));
    const args = ['run', '--dataset', 'builtin:iris', '--kpi', 'accuracy>=0.9', '--max-iterations', '10', '--json'];
    const first = await apo(dir, args);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const one = JSON.parse(first.out) as RunJson;
    expect(one.outcome).toBe('succeeded');
    expect(one.best!.validation['accuracy']).toBeGreaterThanOrEqual(0.9);
    expectSavedModel(one.best!.modelUri);

    const second = await apo(dir, args);
    expect(second.code).toBe(0);
    const two = JSON.parse(second.out) as RunJson;
    expect(two.pipelineId).not.toBe(one.pipelineId);

    // The default data directory is ./.apo: both runs are in it, with what they tried.
    const store = SqliteStore.open({ dataDir: join(dir, '.apo') });
    try {
      const p1 = (await store.getPipeline(one.pipelineId))!;
      expect(p1).toMatchObject({ status: 'finished', outcome: 'succeeded', best: { iteration: one.best!.iteration } });
      const tried1 = await store.listConfigurations({ pipelineId: one.pipelineId });
      const results1 = await store.listResults({ pipelineId: one.pipelineId });
      expect(tried1).toHaveLength(one.iterationsUsed);
      expect(results1.map((r) => r.configurationId).sort()).toEqual(tried1.map((c) => c.id).sort());
      for (const c of tried1) expect(c.layerCount).toBe((c.configuration['hiddenLayers'] as unknown[]).length);

      // The second run knew the first one's configurations: it tried none of them again.
      const tried2 = await store.listConfigurations({ pipelineId: two.pipelineId });
      expect(tried2.length).toBeGreaterThan(0);
      const hashes1 = new Set(tried1.map((c) => c.hash));
      for (const c of tried2) expect(hashes1.has(c.hash)).toBe(false);
      const history = await store.historyByLayerCount(tried1[0]!.datasetKey);
      const inHistory = history.flatMap((g) => g.entries.map((e) => e.configuration.id));
      expect(inHistory).toEqual(expect.arrayContaining([...tried1, ...tried2].map((c) => c.id)));
    } finally {
      await store.close();
    }
  }, 300_000);

  it('an unreachable KPI ends with the budget outcome, exit code 3 and the best model saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-e2e-'));
    const dataDir = join(dir, 'state');
    const run = await apo(dir, ['run', '--dataset', 'builtin:diabetes', '--kpi', 'r2>=0.99', '--max-iterations', '2', '--data-dir', dataDir]);
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/^outcome: budget_exhausted$/m);
    expect(run.out).toMatch(/^reason: .*2 iterations/m);
    const modelLine = /^model: (file:\S+)$/m.exec(run.out);
    expect(modelLine).not.toBeNull();
    expectSavedModel(modelLine![1]!);

    const store = SqliteStore.open({ dataDir });
    try {
      const [p] = await store.listPipelines();
      expect(p).toMatchObject({ status: 'finished', outcome: 'budget_exhausted', iteration: 2 });
      const results = await store.listResults({ pipelineId: p!.id });
      expect(results).toHaveLength(2);
      // The best is the highest validation R² of the two, and its model is the one reported.
      const best = results.reduce((a, b) => (b.validation!['r2']! > a.validation!['r2']! ? b : a));
      expect(p!.best).toMatchObject({ iteration: best.iteration, modelUri: modelLine![1] });
      expect(existsSync(fileURLToPath(best.modelUri!))).toBe(true);
    } finally {
      await store.close();
    }
  }, 300_000);

  // A KPI the well-tried first proposal meets on each built-in dataset: every dataset goes the whole way.
  it.each([
    ['builtin:iris', 'accuracy>=0.9'],
    ['builtin:wine', 'accuracy>=0.9'],
    ['builtin:breast-cancer', 'f1>=0.9'],
    ['builtin:diabetes', 'rmse<=65'],
  ])('%s reaches %s', async (dataset, kpi) => {
    const dir = mkdtempSync(join(tmpdir(), 'apo-e2e-'));
    const run = await apo(dir, ['run', '--dataset', dataset, '--kpi', kpi, '--max-iterations', '5', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.out) as RunJson;
    expect(result.outcome).toBe('succeeded');
    expectSavedModel(result.best!.modelUri);
  }, 300_000);
});
