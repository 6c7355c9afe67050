// The build-model service: `node --import tsx apps/build-model/src/main.ts` (environment in the README).
import { selectBackend } from '@apo/ml';
import { serveStage } from '@apo/platform';
import { z } from 'zod';
import { buildModelHandlers } from './handler.ts';

await serveStage({
  stage: 'build-model',
  processEnv: process.env,
  env: { BACKEND: z.enum(['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']).optional() },
  handlers: ({ artifacts, env }) => {
    let backend: ReturnType<typeof selectBackend> | undefined;
    return buildModelHandlers({ artifacts, ready: () => (backend ??= selectBackend(env.BACKEND ? { prefer: env.BACKEND } : {})) });
  },
});
