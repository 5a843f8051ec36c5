import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';

export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Throws a UserError for an unknown optimizer or a learning rate that is not a positive number. */
export function checkOptimizer(name: string, lr: number): OptimizerName {
  if (!(lr > 0 && Number.isFinite(lr))) throw new UserError(`--lr must be a positive number, not ${lr}`);
  if (!(OPTIMIZERS as readonly string[]).includes(name)) throw new UserError(`unknown optimizer '${name}'; use ${OPTIMIZERS.join(' or ')}`);
  return name as OptimizerName;
}

/** SGD with momentum 0.9 (torchvision's recipe; PyTorch's momentum form, as tf.train.momentum) or Adam. */
export function makeOptimizer(name: string, lr: number, momentum = 0.9): tf.Optimizer {
  return checkOptimizer(name, lr) === 'sgd' ? tf.train.momentum(lr, momentum) : tf.train.adam(lr);
}

/** Softmax cross-entropy on the logits the model outputs (torchvision heads have no softmax). */
export function logitsCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(labels, logits);
}
