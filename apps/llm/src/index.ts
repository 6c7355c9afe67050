export { configurationIdFor, llmHandlers, type LlmStageDeps } from './handler.ts';
