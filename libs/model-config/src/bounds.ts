/**
 * Every limit of a model configuration, in one place: the schema is built from it, and an
 * optimizer's search space or an LLM prompt reads the same numbers instead of copying them.
 * `scale` says how the parameter is best searched and compared: `log` where a doubling matters
 * about as much anywhere in the range (units, learning rate, batch size).
 */
export const BOUNDS = {
  hiddenLayers: { min: 1, max: 8 },
  units: { min: 8, max: 1024, integer: true, scale: 'log' },
  dropout: { min: 0, max: 0.5, default: 0, scale: 'linear' },
  l2: { min: 0, max: 0.1, default: 0, scale: 'linear' },
  batchNorm: { default: false },
  learningRate: { min: 1e-5, max: 0.3, scale: 'log' },
  momentum: { min: 0, max: 0.99, default: 0, scale: 'linear' },
  batchSize: { min: 8, max: 1024, integer: true, scale: 'log' },
  maxEpochs: { min: 1, max: 500, integer: true, scale: 'linear' },
  patience: { min: 1, max: 100, default: 10, integer: true, scale: 'linear' },
  /** TensorFlow.js activations that make sense between layers (no softmax: that is an output). */
  activations: [
    'relu',
    'relu6',
    'elu',
    'selu',
    'tanh',
    'sigmoid',
    'softplus',
    'softsign',
    'swish',
    'mish',
    'hardSigmoid',
    'linear',
  ],
  optimizers: ['adam', 'rmsprop', 'sgd'],
} as const;

/** A hidden-layer activation name. */
export type Activation = (typeof BOUNDS.activations)[number];

/** An optimizer name. */
export type OptimizerName = (typeof BOUNDS.optimizers)[number];
