import type { z } from 'zod';
import { PipelineError, formatIssues } from '@apo/messages';

/** The environment an app was started with is unusable; the message names each variable. */
export class ConfigurationError extends PipelineError {
  constructor(message: string) {
    super(message, 'CONFIGURATION', false);
  }
}

const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN/i;

/**
 * Parses an app's environment once, in its `main.ts`, against a zod object schema. The record is
 * passed in (never read at import time) so tests give their own. Values of variables that look
 * secret are not repeated in the error.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    // Show the variable as it was set, not as coerced (a bad number would print as null).
    const input = SECRET_NAME.test(name) ? '[redacted]' : env[name];
    return { ...issue, input } as typeof issue;
  });
  throw new ConfigurationError(`invalid environment: ${formatIssues({ issues })}`);
}
