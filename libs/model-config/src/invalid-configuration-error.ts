/** One reason a configuration was rejected: where (`hiddenLayers.0.units`) and why. */
export interface ConfigurationIssue {
  /** Dot-separated field path; empty for the configuration as a whole. */
  path: string;
  /** What is wrong, with the value found, e.g. `must be at most 1024 (got 4096)`. */
  message: string;
}

/**
 * A value that is not a valid model configuration. The message lists every issue with its
 * path, so it can be shown to a user or fed back to the LLM that made the proposal as is.
 */
export class InvalidConfigurationError extends Error {
  readonly issues: readonly ConfigurationIssue[];

  constructor(issues: readonly ConfigurationIssue[]) {
    super(
      `Invalid model configuration: ${issues
        .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
        .join('; ')}`,
    );
    this.name = new.target.name;
    this.issues = issues;
  }
}
