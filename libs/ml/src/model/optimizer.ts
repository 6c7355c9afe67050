import * as tf from '@tensorflow/tfjs';
import type { ModelConfiguration } from '@apo/model-config';
import { FusedAdamOptimizer } from './fused-adam.ts';

/** How `createOptimizer` implements Adam. */
export interface OptimizerOptions {
  /** One pass per variable instead of tfjs's 14 kernels (WASM and CPU backends only). */
  fusedAdam: boolean;
}

/**
 * The optimizer a configuration names: Adam, RMSProp, or SGD (with momentum when `momentum` > 0,
 * as Keras's SGD does).
 */
export function createOptimizer(config: ModelConfiguration, options: OptimizerOptions): tf.Optimizer {
  switch (config.optimizer) {
    case 'adam':
      return options.fusedAdam && FusedAdamOptimizer.isSupported()
        ? new FusedAdamOptimizer(config.learningRate)
        : tf.train.adam(config.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(config.learningRate);
    case 'sgd':
      return config.momentum > 0
        ? tf.train.momentum(config.learningRate, config.momentum)
        : tf.train.sgd(config.learningRate);
  }
}

/**
 * Releases an optimizer's tensors. tfjs 4.22's MomentumOptimizer.dispose forgets the learning
 * rate scalar its SGD base class holds (`c`), which would leak one tensor per training.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  const rate = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (rate instanceof tf.Tensor && !rate.isDisposed) rate.dispose();
}
