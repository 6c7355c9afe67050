import { PipelineError, type PipelineErrorOptions } from '@apo/messages';

/** What went wrong with a call to the LLM, as far as the caller needs to act on it. */
export type LlmFailureKind = 'rate-limited' | 'server' | 'timeout' | 'connection' | 'auth' | 'rejected' | 'unexpected';

/**
 * A call to the LLM's API failed after the client's own retries. `retryable` says whether
 * asking again later may work (rate limits, server errors, timeouts, a lost connection) or
 * cannot (a bad key, a request the API refuses). The message never holds the API key: it is
 * redacted from whatever the API or the network layer said.
 */
export class LlmRequestError extends PipelineError {
  readonly kind: LlmFailureKind;
  /** The HTTP status, when the API answered at all. */
  readonly status: number | undefined;

  constructor(message: string, kind: LlmFailureKind, status: number | undefined, options: PipelineErrorOptions = {}) {
    super(message, 'LLM_REQUEST_FAILED', RETRYABLE[kind], options);
    this.kind = kind;
    this.status = status;
  }
}

const RETRYABLE: Record<LlmFailureKind, boolean> = {
  'rate-limited': true,
  server: true,
  timeout: true,
  connection: true,
  auth: false,
  rejected: false,
  unexpected: false,
};
