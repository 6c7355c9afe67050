export { configurationIdFor, HYBRID_LLM_FIRST, hybridAsksLlm, LLM_IDEMPOTENT, llmHandlers, type LlmStageDeps } from './handler.ts';
export { anthropicOptionsFrom, LlmEnv, LlmEnvSchema } from './llm-env.ts';
