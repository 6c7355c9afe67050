import { canonicalize } from './canonical.ts';
import type { HiddenLayer, ModelConfigurationInput } from './schema.ts';

/** Legend for `formatConfiguration`, for a prompt that shows configurations in it. */
export const CONFIGURATION_NOTATION =
  'Notation: [layer | layer ...] optimizer m=momentum lr=learning rate bs=batch size ep=max epochs p=patience; ' +
  'layer = [Nx]units activation [dDROPOUT] [bn=batch norm] [l2=L2 factor], Nx = N equal layers';

// Three significant digits are enough to tell proposals apart in a prompt and keep lines short.
function short(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function exponent(value: number): string {
  return Number(value.toPrecision(3)).toExponential().replace('e+', 'e');
}

function layerText(layer: HiddenLayer): string {
  const parts = [String(layer.units), layer.activation];
  if (layer.dropout > 0) parts.push(`d${short(layer.dropout)}`);
  if (layer.batchNorm) parts.push('bn');
  if (layer.l2 > 0) parts.push(`l2=${exponent(layer.l2)}`);
  return parts.join(' ');
}

/**
 * A configuration on one short line for prompts and logs, defaults left out, runs of equal
 * layers written once: `[2x64 relu d0.1 | 32 tanh bn] adam lr=1e-3 bs=32 ep=100 p=10`.
 * @throws InvalidConfigurationError when the value is not a valid configuration.
 */
export function formatConfiguration(config: ModelConfigurationInput): string {
  const canonical = canonicalize(config);
  const runs: { text: string; count: number }[] = [];
  for (const layer of canonical.hiddenLayers) {
    const text = layerText(layer);
    const last = runs.at(-1);
    if (last?.text === text) last.count += 1;
    else runs.push({ text, count: 1 });
  }
  const layers = runs.map(({ text, count }) => (count > 1 ? `${count}x${text}` : text)).join(' | ');
  const momentum = canonical.momentum > 0 ? ` m=${short(canonical.momentum)}` : '';
  return (
    `[${layers}] ${canonical.optimizer}${momentum} lr=${exponent(canonical.learningRate)}` +
    ` bs=${canonical.batchSize} ep=${canonical.maxEpochs} p=${canonical.patience}`
  );
}
