import { InvalidInputError, type JsonObject } from '@apo/messages';
import { InvalidConfigurationError, parseModelConfiguration, type ModelConfiguration } from '@apo/model-config';

/** A configuration received in a message, or a non-retryable error naming the bad field. */
export function configurationOf(json: JsonObject): ModelConfiguration {
  try {
    return parseModelConfiguration(json);
  } catch (err) {
    if (err instanceof InvalidConfigurationError) {
      throw new InvalidInputError(err.message, { details: { issues: err.issues } });
    }
    throw err;
  }
}
