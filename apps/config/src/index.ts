export { CONFIG_IDEMPOTENT, configHandlers, type Attempt } from './handler.ts';
