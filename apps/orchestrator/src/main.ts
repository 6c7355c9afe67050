// The orchestrator service: `node --import tsx apps/orchestrator/src/main.ts` (environment in the README).
import { loadDataset, profileDataset } from '@apo/ml';
import { serveStage } from '@apo/platform';
import { z } from 'zod';
import { orchestratorHandlers } from './handler.ts';

await serveStage({
  stage: 'orchestrator',
  processEnv: process.env,
  // Dataset paths in start messages resolve inside DATA_ROOT; anything outside is refused.
  env: {
    DATA_ROOT: z.string().min(1).default(process.cwd()),
    // What `auto` becomes. The orchestrator never needs the LLM's key, so it is told instead:
    // docker-compose.yml sets `llm` when ANTHROPIC_API_KEY is set for the llm service.
    AUTO_STRATEGY: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['llm', 'tpe']).default('tpe')),
  },
  handlers: ({ store, env }) =>
    orchestratorHandlers({
      store,
      autoStrategy: env.AUTO_STRATEGY,
      profileDataset: async (dataset, { task }) => profileDataset(await loadDataset(dataset, { dataRoot: env.DATA_ROOT }), { task }),
    }),
});
