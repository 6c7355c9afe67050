// The predict service: `node --import tsx apps/predict/src/main.ts` (environment in the README).
import { selectBackend } from '@apo/ml';
import { serveStage } from '@apo/platform';
import { z } from 'zod';
import { predictHandlers } from './handler.ts';

await serveStage({
  stage: 'predict',
  processEnv: process.env,
  env: { BACKEND: z.enum(['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']).optional() },
  handlers: ({ artifacts, store, env }) => {
    let backend: ReturnType<typeof selectBackend> | undefined;
    return predictHandlers({ artifacts, store, ready: () => (backend ??= selectBackend(env.BACKEND ? { prefer: env.BACKEND } : {})) });
  },
});
