export { buildModelHandlers, initialModelKey, type BuildModelDeps } from './handler.ts';
