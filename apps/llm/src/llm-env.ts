import {
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_MAX_REPAIRS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_TOKENS,
  DEFAULT_TIMEOUT_MS,
  type AnthropicProposerOptions,
} from '@apo/proposers';
import { z } from 'zod';

// An empty variable (`ANTHROPIC_API_KEY=` in a compose file) means unset, not "the key is ''".
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/**
 * The LLM's variables, read by the llm service's and the CLI's composition roots (defaults in
 * parentheses): ANTHROPIC_API_KEY (none: no LLM, strategy `llm` falls back to `tpe`),
 * ANTHROPIC_MODEL (`DEFAULT_ANTHROPIC_MODEL`), ANTHROPIC_BASE_URL (https://api.anthropic.com),
 * ANTHROPIC_MAX_TOKENS (1024, per answer), ANTHROPIC_TEMPERATURE (not sent: the model's own),
 * ANTHROPIC_TIMEOUT_MS (60000, per HTTP attempt), ANTHROPIC_MAX_RETRIES (2, on 429, 5xx,
 * timeouts and lost connections, with backoff), ANTHROPIC_MAX_REPAIRS (2 answers more after a
 * rejected one).
 */
export const LlmEnv = {
  ANTHROPIC_API_KEY: optional(z.string().trim().min(1)),
  ANTHROPIC_MODEL: optional(z.string().trim().min(1)),
  ANTHROPIC_BASE_URL: optional(z.url({ protocol: /^https?$/ })),
  ANTHROPIC_MAX_TOKENS: optional(z.coerce.number().int().min(256).max(32_000)),
  ANTHROPIC_TEMPERATURE: optional(z.coerce.number().min(0).max(1)),
  ANTHROPIC_TIMEOUT_MS: optional(z.coerce.number().int().min(100).max(600_000)),
  ANTHROPIC_MAX_RETRIES: optional(z.coerce.number().int().min(0).max(10)),
  ANTHROPIC_MAX_REPAIRS: optional(z.coerce.number().int().min(0).max(5)),
};
export const LlmEnvSchema = z.object(LlmEnv);
export type LlmEnv = z.output<typeof LlmEnvSchema>;

/** The Anthropic proposer's options from the parsed variables, or null when no key is set. */
export function anthropicOptionsFrom(env: LlmEnv): AnthropicProposerOptions | null {
  if (!env.ANTHROPIC_API_KEY) return null;
  return {
    apiKey: env.ANTHROPIC_API_KEY,
    model: env.ANTHROPIC_MODEL ?? DEFAULT_ANTHROPIC_MODEL,
    ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
    maxTokens: env.ANTHROPIC_MAX_TOKENS ?? DEFAULT_MAX_TOKENS,
    ...(env.ANTHROPIC_TEMPERATURE === undefined ? {} : { temperature: env.ANTHROPIC_TEMPERATURE }),
    timeoutMs: env.ANTHROPIC_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS,
    maxRetries: env.ANTHROPIC_MAX_RETRIES ?? DEFAULT_MAX_RETRIES,
    maxRepairs: env.ANTHROPIC_MAX_REPAIRS ?? DEFAULT_MAX_REPAIRS,
  };
}
