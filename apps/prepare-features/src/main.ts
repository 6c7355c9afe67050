// The prepare-features service: `node --import tsx apps/prepare-features/src/main.ts` (environment in the README).
import { serveStage } from '@apo/platform';
import { z } from 'zod';
import { prepareFeaturesHandlers } from './handler.ts';

await serveStage({
  stage: 'prepare-features',
  processEnv: process.env,
  env: { DATA_ROOT: z.string().min(1).default(process.cwd()) },
  handlers: ({ artifacts, env }) => prepareFeaturesHandlers({ artifacts, dataRoot: env.DATA_ROOT }),
});
