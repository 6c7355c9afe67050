import { InvalidConfigurationError, type ConfigurationIssue } from './invalid-configuration-error.ts';
import { toConfigurationIssues } from './issues.ts';
import { ModelConfiguration } from './schema.ts';

/** The outcome of `safeParseModelConfiguration`: the configuration, or why it was rejected. */
export type ModelConfigurationParseResult =
  | { success: true; configuration: ModelConfiguration }
  | { success: false; issues: ConfigurationIssue[]; error: InvalidConfigurationError };

/** Validates a value and applies defaults, reporting every issue instead of throwing. */
export function safeParseModelConfiguration(value: unknown): ModelConfigurationParseResult {
  const result = ModelConfiguration.safeParse(value, { reportInput: true });
  if (result.success) return { success: true, configuration: result.data };
  const issues = toConfigurationIssues(result.error);
  return { success: false, issues, error: new InvalidConfigurationError(issues) };
}

/**
 * Validates a value and applies defaults.
 * @throws InvalidConfigurationError naming every bad field and the value it had.
 */
export function parseModelConfiguration(value: unknown): ModelConfiguration {
  const result = safeParseModelConfiguration(value);
  if (!result.success) throw result.error;
  return result.configuration;
}
