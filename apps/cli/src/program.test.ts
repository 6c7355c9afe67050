import { describe, expect, it } from 'vitest';
import { run } from './program.ts';

async function apo(...args: string[]) {
  let out = '';
  let err = '';
  const code = await run(['node', 'apo', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('apo', () => {
  it('check prints a start message with its defaults', async () => {
    const { code, out } = await apo('check', '{"kpi":"accuracy>=0.97","dataset":"builtin:breast-cancer"}');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      type: 'ADAPTIVE_PIPELINE_START',
      kpi: { metric: 'accuracy', target: 0.97 },
      budget: { maxIterations: 20 },
      strategy: 'auto',
    });
  });

  it('check names the bad field and exits 2', async () => {
    const { code, err } = await apo('check', '{"kpi":"rmse>=3","dataset":"builtin:diabetes"}');
    expect(code).toBe(2);
    expect(err).toMatch(/kpi: rmse is minimised, so write "rmse<=3"/);
  });

  it('topics lists every topic of the flow with its message types', async () => {
    const { out } = await apo('topics');
    expect(out).toMatch(/^adaptive-pipeline-workflow\s+ADAPTIVE_PIPELINE_START, CANCEL_PIPELINE, STAGE_FAILED$/m);
    expect(out).toMatch(/^adaptive-pipeline-predict-topic\s+RUN_MODEL, PREDICTION_READY, STAGE_FAILED$/m);
    expect(out).toMatch(/^adaptive-pipeline-notifications\s+PIPELINE_FINISHED$/m);
    expect(out).toMatch(/^adaptive-pipeline-dead-letter\s+/m);
  });

  it('an unknown command fails with usage', async () => {
    const { code, err } = await apo('fly');
    expect(code).toBe(1);
    expect(err).toMatch(/unknown command 'fly'/);
  });
});
