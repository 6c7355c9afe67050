/** Options every pipeline error takes. */
export interface PipelineErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base of every error the product throws on purpose. `retryable` says whether trying the same
 * work again may succeed (a broker hiccup) or cannot (a bad configuration); it travels with the
 * error when it crosses a process as `STAGE_FAILED`.
 */
export class PipelineError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, code: string, retryable: boolean, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    this.details = options.details;
  }
}
