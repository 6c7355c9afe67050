// The orchestrator service: `node --import tsx apps/orchestrator/src/main.ts` (environment in the README).
import { loadDataset, profileDataset } from '@apo/ml';
import { serveStage } from '@apo/platform';
import { z } from 'zod';
import { orchestratorHandlers } from './handler.ts';

await serveStage({
  stage: 'orchestrator',
  processEnv: process.env,
  // Dataset paths in start messages resolve inside DATA_ROOT; anything outside is refused.
  env: { DATA_ROOT: z.string().min(1).default(process.cwd()) },
  handlers: ({ store, env }) =>
    orchestratorHandlers({
      store,
      // The LLM proposer is not offered yet: `auto` means TPE.
      autoStrategy: 'tpe',
      profileDataset: async (dataset, { task }) => profileDataset(await loadDataset(dataset, { dataRoot: env.DATA_ROOT }), { task }),
    }),
});
