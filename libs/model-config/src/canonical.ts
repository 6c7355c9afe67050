import { createHash } from 'node:crypto';
import { parseModelConfiguration } from './parse.ts';
import type { ModelConfiguration, ModelConfigurationInput } from './schema.ts';

/** Significant digits kept for float fields: 0.001 and 0.0010000001 are one configuration. */
export const CANONICAL_SIGNIFICANT_DIGITS = 6;

function round(value: number): number {
  return Number(value.toPrecision(CANONICAL_SIGNIFICANT_DIGITS));
}

/**
 * The one representation of a configuration: validated, defaults applied, keys in a fixed
 * order, floats rounded, and momentum 0 unless the optimizer is sgd (the others ignore it, so
 * it must not tell two equal trainings apart). Rounding happens after validation and keeps a
 * value inside its bounds, since every bound has fewer significant digits than are kept.
 * @throws InvalidConfigurationError when the value is not a valid configuration.
 */
export function canonicalize(config: ModelConfigurationInput): ModelConfiguration {
  const parsed = parseModelConfiguration(config);
  return {
    hiddenLayers: parsed.hiddenLayers.map((layer) => ({
      units: layer.units,
      activation: layer.activation,
      dropout: round(layer.dropout),
      batchNorm: layer.batchNorm,
      l2: round(layer.l2),
    })),
    optimizer: parsed.optimizer,
    learningRate: round(parsed.learningRate),
    momentum: parsed.optimizer === 'sgd' ? round(parsed.momentum) : 0,
    batchSize: parsed.batchSize,
    maxEpochs: parsed.maxEpochs,
    patience: parsed.patience,
  };
}

/**
 * SHA-256 (hex) of the canonical JSON: equal for configurations that train the same network
 * whatever their key order or omitted defaults, different for any real change.
 * @throws InvalidConfigurationError when the value is not a valid configuration.
 */
export function configurationHash(config: ModelConfigurationInput): string {
  return createHash('sha256').update(JSON.stringify(canonicalize(config))).digest('hex');
}
