// The config service: `node --import tsx apps/config/src/main.ts` (environment in the README).
import { serveStage } from '@apo/platform';
import { CONFIG_IDEMPOTENT, configHandlers } from './handler.ts';

await serveStage({ stage: 'config', processEnv: process.env, handlers: ({ store }) => configHandlers({ store }), idempotent: CONFIG_IDEMPOTENT });
