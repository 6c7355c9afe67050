import { z } from 'zod';
import { PipelineError } from './pipeline-error.ts';

/** An error as it crosses a process inside `STAGE_FAILED`. */
export const WireError = z.object({
  name: z.string(),
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof WireError>;

/**
 * Turns anything thrown into its wire form. Errors the product did not classify count as
 * retryable: a driver's network error is a plain `Error`, and retries are bounded anyway.
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof PipelineError) {
    return {
      name: err.name,
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      ...(err.details ? { details: err.details } : {}),
    };
  }
  if (err instanceof Error) {
    return { name: err.name, code: 'UNEXPECTED', message: err.message, retryable: true };
  }
  return { name: 'Error', code: 'UNEXPECTED', message: String(err), retryable: true };
}

/** Whether retrying the work that threw `err` makes sense. */
export function isRetryable(err: unknown): boolean {
  return toWireError(err).retryable;
}
