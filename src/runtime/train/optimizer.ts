import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';

export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** SGD with momentum 0.9 (torchvision's recipe; PyTorch's momentum form, as tf.train.momentum) or Adam. */
export function makeOptimizer(name: string, lr: number, momentum = 0.9): tf.Optimizer {
  if (!(lr > 0 && Number.isFinite(lr))) throw new UserError(`--lr must be a positive number, not ${lr}`);
  if (name === 'sgd') return tf.train.momentum(lr, momentum);
  if (name === 'adam') return tf.train.adam(lr);
  throw new UserError(`unknown optimizer '${name}'; use ${OPTIMIZERS.join(' or ')}`);
}

/** Softmax cross-entropy on the logits the model outputs (torchvision heads have no softmax). */
export function logitsCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(labels, logits);
}
