// The llm service: `node --import tsx apps/llm/src/main.ts` (environment in the README).
import { serveStage } from '@apo/platform';
import { AnthropicProposer, RandomProposer, TpeProposer } from '@apo/proposers';
import { LLM_IDEMPOTENT, llmHandlers } from './handler.ts';
import { anthropicOptionsFrom, LlmEnv } from './llm-env.ts';

await serveStage({
  stage: 'llm',
  processEnv: process.env,
  env: LlmEnv,
  idempotent: LLM_IDEMPOTENT,
  handlers: ({ store, env, logger }) => {
    const anthropic = anthropicOptionsFrom(env);
    const tpe = new TpeProposer();
    // The model is logged, never the key; without a key `llm` and `hybrid` fall back to TPE.
    logger.info({ llm: anthropic ? anthropic.model : null }, anthropic ? 'LLM proposer configured' : 'no ANTHROPIC_API_KEY: offline proposers only');
    return llmHandlers({
      store,
      proposers: {
        tpe,
        random: new RandomProposer(),
        ...(anthropic ? { llm: new AnthropicProposer({ ...anthropic, fallback: tpe }) } : {}),
      },
    });
  },
});
