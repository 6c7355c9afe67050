export { configHandlers, type Attempt } from './handler.ts';
