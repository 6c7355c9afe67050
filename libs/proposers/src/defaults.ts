import { canonicalize, type ModelConfiguration, type ModelConfigurationInput } from '@apo/model-config';

/**
 * Configurations that train well on most small tabular datasets, tried first on a dataset with
 * no history (like enqueuing known-good trials in Optuna): the search starts where a careful
 * person would, and the random startup explores around them.
 */
const DEFAULTS: ModelConfigurationInput[] = [
  {
    hiddenLayers: [
      { units: 64, activation: 'relu' },
      { units: 64, activation: 'relu' },
    ],
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize: 32,
    maxEpochs: 200,
    patience: 20,
  },
  {
    hiddenLayers: [{ units: 128, activation: 'relu', dropout: 0.1 }],
    optimizer: 'adam',
    learningRate: 3e-3,
    batchSize: 32,
    maxEpochs: 200,
    patience: 20,
  },
  {
    hiddenLayers: [
      { units: 128, activation: 'relu', dropout: 0.2, batchNorm: true },
      { units: 128, activation: 'relu', dropout: 0.2, batchNorm: true },
      { units: 64, activation: 'relu', dropout: 0.2, batchNorm: true },
    ],
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize: 64,
    maxEpochs: 200,
    patience: 20,
  },
];

export const STARTUP_CONFIGURATIONS: readonly ModelConfiguration[] = DEFAULTS.map((c) => canonicalize(c));
