import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AnthropicError,
  AuthenticationError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitError,
  RequestTimeoutError,
} from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { canonicalize, configurationJsonSchema, formatConfiguration, safeParseModelConfiguration, type ModelConfiguration } from '@apo/model-config';
import { z } from 'zod';
import { LlmAnswerError } from './errors/llm-answer-error.ts';
import { LlmRequestError, type LlmFailureKind } from './errors/llm-request-error.ts';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
import { llmContextOf } from './llm-context.ts';
import { buildPrompt, TOOL_NAME } from './prompt.ts';
import type { Proposal, ProposalLlmUsage, ProposalRequest, Proposer } from './proposer.ts';
import { TpeProposer } from './tpe.ts';
import { TriedConfigurations } from './tried.ts';

/**
 * Default model: the newest Sonnet in the SDK's `Model` list (1.16), a balance of quality, speed
 * and price for a small structured answer. Sonnet 4.5 is retired (see the SDK's changelog).
 */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';
/** An answer is a tool call of a few hundred tokens; 1024 leaves room for 8 layers and a rationale. */
export const DEFAULT_MAX_TOKENS = 1024;
/** Per HTTP attempt; the SDK retries a timed-out attempt like a 5xx. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** The SDK's own default: retries with exponential backoff (0.5 s, 1 s, ...) or the `retry-after` asked for. */
export const DEFAULT_MAX_RETRIES = 2;
/** Answers after the first one that may be asked for, each with the previous answer's error. */
export const DEFAULT_MAX_REPAIRS = 2;
/** Longest rationale kept; it is stored with every configuration and shown in status output. */
export const MAX_RATIONALE_LENGTH = 300;

/** Options of `AnthropicProposer`. The library reads no environment: the app passes everything. */
export interface AnthropicProposerOptions {
  apiKey: string;
  /** Default `DEFAULT_ANTHROPIC_MODEL`. */
  model?: string;
  /** Default `https://api.anthropic.com`; tests point it at the fake Messages API. */
  baseURL?: string;
  maxTokens?: number;
  /**
   * Sent only when given. The Messages API of SDK 1.16 no longer lists `temperature` (it was
   * deprecated), so the model's own sampling is the default; set it only for a model or gateway
   * that still accepts it.
   */
  temperature?: number;
  timeoutMs?: number;
  maxRetries?: number;
  maxRepairs?: number;
  /** Offline proposer whose pick is the prompt's hint and the answer when the LLM fails; default `new TpeProposer()`. */
  fallback?: Proposer;
}

const Answer = z.object({ configuration: z.unknown(), rationale: z.string().optional() });

/** Replaces the key, and anything shaped like an Anthropic key, by a marker. */
export function redactSecret(text: string, secret: string): string {
  const withoutKey = secret.length > 0 ? text.split(secret).join('[redacted]') : text;
  return withoutKey.replace(/sk-ant-[A-Za-z0-9_-]+/g, '[redacted]');
}

/** The SDK's error classes mapped to what the caller acts on; a non-SDK error is a bug and is rethrown. */
export function toLlmRequestError(err: unknown, apiKey: string): LlmRequestError {
  if (!(err instanceof AnthropicError)) throw err;
  // Subclasses before their parents: a timeout is a connection error, a 529 a server error.
  const kind: LlmFailureKind =
    err instanceof APIConnectionTimeoutError || err instanceof RequestTimeoutError
      ? 'timeout'
      : err instanceof APIConnectionError
        ? 'connection'
        : err instanceof RateLimitError
          ? 'rate-limited'
          : err instanceof InternalServerError
            ? 'server'
            : err instanceof AuthenticationError || err instanceof PermissionDeniedError
              ? 'auth'
              : err instanceof APIError
                ? 'rejected'
                : 'unexpected';
  const status = err instanceof APIError ? err.status : undefined;
  // The SDK's message may quote the response body; the key must not travel on in it. The
  // cause is left out for the same reason (its message and headers are the SDK's).
  return new LlmRequestError(`LLM request failed (${kind}): ${redactSecret(err.message, apiKey)}`, kind, status);
}

/** What one call of the loop below made of an answer. */
type Checked =
  | { ok: true; configuration: ModelConfiguration; rationale: string | undefined }
  | { ok: false; reason: string; toolUseId: string | null };

/**
 * Proposes with an Anthropic model. The prompt (`buildPrompt`) holds the KPI, the dataset
 * profile, the bounds, the dataset's history by layer count, the pipeline's attempts and the
 * fallback's (TPE's) pick as a hint. Each answer is checked: the schema with its bounds and not
 * a duplicate or near-duplicate of the history. A rejected answer is sent back with the exact
 * reason, up to `maxRepairs` times; then, or when a request fails after the SDK's retries, the
 * hint is proposed (`tpe-fallback`) with the reason in `note`, so the pipeline goes on.
 *
 * Sources: `llm` (first answer), `llm-repaired` (a later answer), `tpe-fallback`.
 */
export class AnthropicProposer implements Proposer {
  readonly name = 'llm';
  readonly model: string;
  private readonly client: Anthropic;
  private readonly apiKey: string;
  private readonly maxTokens: number;
  private readonly temperature: number | undefined;
  private readonly maxRepairs: number;
  private readonly fallback: Proposer;
  private readonly tool: Tool;

  constructor(options: AnthropicProposerOptions) {
    if (!options.apiKey) throw new RangeError('apiKey is required');
    this.apiKey = options.apiKey;
    this.model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
    this.maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.temperature = options.temperature;
    this.maxRepairs = options.maxRepairs ?? DEFAULT_MAX_REPAIRS;
    this.fallback = options.fallback ?? new TpeProposer();
    this.client = new Anthropic({
      apiKey: options.apiKey,
      // Given explicitly so the SDK reads neither ANTHROPIC_BASE_URL nor ANTHROPIC_LOG itself,
      // and never prints a request: the stage logs what happened, without the key.
      baseURL: options.baseURL ?? 'https://api.anthropic.com',
      logLevel: 'off',
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    });
    // Forced tool use rather than the JSON-schema output format: it works the same on every
    // current model and on Messages-compatible gateways, and a rejected call has the API's own
    // channel for "this input was wrong, because ..." (a tool_result with is_error), which is
    // what a repair is. The schema alone cannot say everything anyway (patience <= maxEpochs,
    // nothing tried before), so each answer is checked here whichever way it is asked for.
    this.tool = {
      name: TOOL_NAME,
      description: 'Propose the next neural-network configuration to train, with a one-sentence rationale.',
      input_schema: {
        type: 'object',
        // The rationale first: the model states its reason before it writes the numbers.
        properties: {
          rationale: { type: 'string', description: 'One sentence: why this configuration, given the history.' },
          configuration: configurationJsonSchema(),
        },
        required: ['rationale', 'configuration'],
        additionalProperties: false,
      },
    };
  }

  async propose(request: ProposalRequest): Promise<Proposal> {
    const tried = new TriedConfigurations(request.history);
    // The hint costs one offline proposal per request, and is the fallback when the LLM fails.
    let hint: Proposal | null = null;
    let hintError: unknown = null;
    try {
      hint = await this.fallback.propose(request);
    } catch (err) {
      if (!(err instanceof SearchSpaceExhaustedError)) throw err;
      hintError = err; // the LLM searches the whole schema and may still find something new
    }
    const context = llmContextOf(request);
    const prompt = buildPrompt({
      metric: request.metric,
      direction: request.direction,
      history: request.history,
      ...(context.target === undefined ? {} : { target: context.target }),
      ...(context.profile ? { profile: context.profile } : {}),
      ...(context.attempts ? { attempts: context.attempts } : {}),
      hint,
    });
    const messages: MessageParam[] = [{ role: 'user', content: prompt.user }];
    const usage: ProposalLlmUsage = { model: this.model, inputTokens: 0, outputTokens: 0, latencyMs: 0 };
    const rejected: string[] = [];
    let failure: LlmAnswerError | LlmRequestError;

    for (let call = 0; ; call += 1) {
      let answer: Message;
      const started = performance.now();
      try {
        answer = await this.client.messages.create(this.params(prompt.system, messages));
      } catch (err) {
        usage.latencyMs += performance.now() - started;
        failure = toLlmRequestError(err, this.apiKey);
        break;
      }
      usage.latencyMs += performance.now() - started;
      usage.model = answer.model || usage.model;
      usage.inputTokens += answer.usage.input_tokens + (answer.usage.cache_creation_input_tokens ?? 0) + (answer.usage.cache_read_input_tokens ?? 0);
      usage.outputTokens += answer.usage.output_tokens;

      const checked = this.check(answer, tried);
      if (checked.ok) {
        const repairs = rejected.length;
        return {
          configuration: checked.configuration,
          source: repairs === 0 ? 'llm' : 'llm-repaired',
          ...(checked.rationale ? { rationale: checked.rationale } : {}),
          llm: rounded(usage),
          ...(repairs > 0 ? { note: this.redact(`repaired after ${repairs} rejected answer(s): ${rejected.join(' | ')}`) } : {}),
        };
      }
      rejected.push(checked.reason);
      if (call >= this.maxRepairs) {
        failure = new LlmAnswerError(checked.reason, rejected.length);
        break;
      }
      // The exact reason goes back, as the result of the rejected call when there was one.
      messages.push({ role: 'assistant', content: answer.content });
      messages.push({
        role: 'user',
        content: checked.toolUseId
          ? [{ type: 'tool_result', tool_use_id: checked.toolUseId, is_error: true, content: `Rejected: ${checked.reason}. Call ${TOOL_NAME} again with a corrected, new configuration.` }]
          : `Rejected: ${checked.reason}. Call the ${TOOL_NAME} tool with a new configuration.`,
      });
    }

    if (!hint) throw hintError;
    const why =
      failure instanceof LlmRequestError
        ? failure.message
        : `LLM answers unusable after ${failure.answers} tries: ${rejected.join(' | ')}`;
    return {
      configuration: hint.configuration,
      source: 'tpe-fallback',
      ...(hint.rationale ? { rationale: hint.rationale } : {}),
      llm: rounded(usage),
      note: this.redact(why),
    };
  }

  private params(system: string, messages: MessageParam[]): MessageCreateParamsNonStreaming {
    const params: MessageCreateParamsNonStreaming & { temperature?: number } = {
      model: this.model,
      max_tokens: this.maxTokens,
      system,
      tools: [this.tool],
      tool_choice: { type: 'tool', name: TOOL_NAME },
      messages,
      ...(this.temperature === undefined ? {} : { temperature: this.temperature }),
    };
    return params;
  }

  /** Whether an answer is a usable proposal, or the exact reason it is not. */
  private check(answer: Message, tried: TriedConfigurations): Checked {
    const call = answer.content.find((block) => block.type === 'tool_use' && block.name === TOOL_NAME);
    if (!call || call.type !== 'tool_use') {
      const cut = answer.stop_reason === 'max_tokens' ? ` (the answer was cut off at max_tokens ${this.maxTokens})` : '';
      return { ok: false, reason: `the answer has no ${TOOL_NAME} call${cut}`, toolUseId: null };
    }
    const parsed = Answer.safeParse(call.input);
    if (!parsed.success || typeof call.input !== 'object' || call.input === null) {
      return { ok: false, reason: 'the tool input is not a JSON object with "configuration" and "rationale"', toolUseId: call.id };
    }
    const result = safeParseModelConfiguration(parsed.data.configuration);
    if (!result.success) return { ok: false, reason: result.error.message, toolUseId: call.id };
    const configuration = canonicalize(result.configuration);
    if (tried.has(configuration)) {
      return {
        ok: false,
        reason: `${formatConfiguration(configuration)} repeats or nearly repeats a tried configuration (change depth, width by 1.5x or more, an activation, the optimizer, batch norm, or the learning rate by 2x or more)`,
        toolUseId: call.id,
      };
    }
    const rationale = parsed.data.rationale?.replace(/\s+/g, ' ').trim().slice(0, MAX_RATIONALE_LENGTH);
    return { ok: true, configuration, rationale: rationale || undefined };
  }

  private redact(text: string): string {
    return redactSecret(text, this.apiKey);
  }
}

function rounded(usage: ProposalLlmUsage): ProposalLlmUsage {
  return { ...usage, latencyMs: Math.round(usage.latencyMs) };
}
