export { ServiceEnv } from './env.ts';
export { connectPlatform, type Platform } from './connect.ts';
export { serveStage, type ServeStageOptions } from './serve.ts';
