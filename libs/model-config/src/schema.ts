import { z } from 'zod';
import { BOUNDS } from './bounds.ts';

// Descriptions are read by an LLM proposing configurations (they end up in the tool's JSON
// Schema), so they say what the field does to training, not only its type.

/** One hidden layer: a dense layer, optionally followed by batch normalisation and dropout. */
export const HiddenLayer = z
  .strictObject({
    units: z
      .number()
      .int()
      .min(BOUNDS.units.min)
      .max(BOUNDS.units.max)
      .describe('Number of neurons in this dense layer.'),
    activation: z.enum(BOUNDS.activations).describe('Activation function of this layer.'),
    dropout: z
      .number()
      .min(BOUNDS.dropout.min)
      .max(BOUNDS.dropout.max)
      .default(BOUNDS.dropout.default)
      .describe('Fraction of the layer outputs dropped during training (0 = no dropout).'),
    batchNorm: z
      .boolean()
      .default(BOUNDS.batchNorm.default)
      .describe('Whether batch normalisation follows this layer.'),
    l2: z
      .number()
      .min(BOUNDS.l2.min)
      .max(BOUNDS.l2.max)
      .default(BOUNDS.l2.default)
      .describe('L2 regularisation factor of the layer weights (0 = none).'),
  })
  .describe('A hidden dense layer.');
/** A hidden layer with its defaults applied. */
export type HiddenLayer = z.infer<typeof HiddenLayer>;

/**
 * A proposal for the network to train: hidden layers and training settings. The output layer
 * is not part of it, since the task (classes, regression) decides it. `momentum` is accepted
 * with every optimizer but only sgd uses it; `canonicalize` sets it to 0 for the others so
 * that it cannot make two equal trainings look different.
 */
export const ModelConfiguration = z
  .strictObject({
    hiddenLayers: z
      .array(HiddenLayer)
      .min(BOUNDS.hiddenLayers.min)
      .max(BOUNDS.hiddenLayers.max)
      .describe('Hidden layers from input to output; the output layer is added from the task.'),
    optimizer: z.enum(BOUNDS.optimizers).describe('Training optimizer.'),
    learningRate: z
      .number()
      .min(BOUNDS.learningRate.min)
      .max(BOUNDS.learningRate.max)
      .describe('Optimizer learning rate; think of it on a log scale (1e-4, 1e-3, 1e-2).'),
    momentum: z
      .number()
      .min(BOUNDS.momentum.min)
      .max(BOUNDS.momentum.max)
      .default(BOUNDS.momentum.default)
      .describe('Momentum of the sgd optimizer; ignored by adam and rmsprop.'),
    batchSize: z
      .number()
      .int()
      .min(BOUNDS.batchSize.min)
      .max(BOUNDS.batchSize.max)
      .describe('Number of examples per training step.'),
    maxEpochs: z
      .number()
      .int()
      .min(BOUNDS.maxEpochs.min)
      .max(BOUNDS.maxEpochs.max)
      .describe('Upper limit on training epochs; early stopping may end training sooner.'),
    patience: z
      .number()
      .int()
      .min(BOUNDS.patience.min)
      .max(BOUNDS.patience.max)
      .default(BOUNDS.patience.default)
      .describe(
        'Early stopping: epochs without validation improvement before training stops; must not exceed maxEpochs.',
      ),
  })
  .superRefine((config, ctx) => {
    if (config.patience > config.maxEpochs) {
      ctx.addIssue({
        code: 'custom',
        path: ['patience'],
        message: `must not exceed maxEpochs (${config.maxEpochs})`,
        input: config.patience,
      });
    }
  })
  .describe('A neural-network configuration to train: hidden layers and training settings.');
/** A model configuration with its defaults applied (what parsing returns). */
export type ModelConfiguration = z.infer<typeof ModelConfiguration>;

/** A model configuration as it may be written: fields with defaults may be left out. */
export type ModelConfigurationInput = z.input<typeof ModelConfiguration>;
