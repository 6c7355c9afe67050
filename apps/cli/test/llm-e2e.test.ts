import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalize, configurationJsonSchema } from '@apo/model-config';
import { fakeReplies, startFakeMessagesApi, toolInputSchema, userText, type FakeMessagesApi } from '@apo/proposers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/apo.mjs', import.meta.url));
const KEY = 'sk-ant-e2e-test-key-do-not-log';

let fake: FakeMessagesApi;
beforeAll(async () => {
  fake = await startFakeMessagesApi();
});
afterAll(() => fake.close());

/** `apo` as a child process whose LLM is the fake Messages API. */
function apo(cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, FORCE_COLOR: '0', ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_MODEL: 'claude-e2e-model', ANTHROPIC_MAX_RETRIES: '1' };
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

interface RunJson {
  outcome: string;
  iterationsUsed: number;
  llmTokens?: number;
  best: { validation: Record<string, number> } | null;
  configurations: { iteration: number; source: string; note: string | null; rationale: string | null; llm: { model: string; inputTokens: number; outputTokens: number } | null }[];
}

describe('apo run --strategy llm against the fake Messages API', () => {
  it('reaches the KPI on iris with the LLM’s proposals, a bad answer repaired and a 500 retried', async () => {
    const good = canonicalize({
      hiddenLayers: [{ units: 64, activation: 'relu' }, { units: 32, activation: 'relu' }],
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 16,
      maxEpochs: 200,
      patience: 20,
    });
    // Iteration 1: a 500 the SDK retries, an out-of-range answer, then a good one.
    fake.enqueue(fakeReplies.serverError(), fakeReplies.proposal({ ...good, batchSize: 4096 }), fakeReplies.proposal(good, 'two relu layers, a safe start for 4 features'));
    const dir = mkdtempSync(join(tmpdir(), 'apo-llm-e2e-'));
    const { code, out, err } = await apo(dir, ['run', '--strategy', 'llm', '--dataset', 'builtin:iris', '--kpi', 'accuracy>=0.9', '--max-iterations', '5', '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out) as RunJson;
    expect(result.outcome).toBe('succeeded');
    expect(result.best!.validation['accuracy']).toBeGreaterThanOrEqual(0.9);

    const [first] = result.configurations;
    expect(first).toMatchObject({ iteration: 1, source: 'llm-repaired', rationale: 'two relu layers, a safe start for 4 features', llm: { model: 'claude-e2e-model' } });
    expect(first!.note).toMatch(/batchSize: must be at most 1024 \(got 4096\)/);
    expect(result.llmTokens).toBe(result.configurations.reduce((n, c) => n + (c.llm ? c.llm.inputTokens + c.llm.outputTokens : 0), 0));
    expect(result.llmTokens).toBeGreaterThan(0);

    // What the LLM was sent: the model, the configuration's schema, the profile and the KPI.
    expect(fake.requests.length).toBeGreaterThanOrEqual(3);
    const sent = fake.requests[0]!;
    expect(sent.body['model']).toBe('claude-e2e-model');
    expect((toolInputSchema(sent)!['properties'] as Record<string, unknown>)['configuration']).toEqual(configurationJsonSchema());
    expect(userText(sent)).toContain('Task: classification into 3 classes of the target column "species".');
    expect(userText(sent)).toContain('goal accuracy >= 0.9');

    // The key is in no output and nowhere in the data directory's database.
    expect(out + err).not.toContain(KEY);
    const storeFiles = readdirSync(join(dir, '.apo')).filter((f) => f.startsWith('store.sqlite'));
    expect(storeFiles).toContain('store.sqlite');
    for (const file of storeFiles) expect(readFileSync(join(dir, '.apo', file)).includes(KEY), file).toBe(false);
  }, 300_000);
});
