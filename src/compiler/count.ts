import type { ConvAttrs, OpKind, ParamCount } from './types.js';

/**
 * Parameter counts, torchvision's convention: conv weights (+ bias), BN gamma and beta as
 * trainable, BN running mean and variance as non-trainable (torchinfo lists them as buffers;
 * Keras counts them as non-trainable weights), dense weight + bias.
 */
export function countParams(op: OpKind, attrs: Record<string, any>, inputs: number[][], out: number[]): ParamCount {
  switch (op) {
    case 'conv': {
      const a = attrs as ConvAttrs;
      const cin = inputs[0][2];
      return { trainable: a.filters * (cin / a.groups) * a.kernel[0] * a.kernel[1] + (a.bias ? a.filters : 0), nonTrainable: 0 };
    }
    case 'bn': {
      const c = out[out.length - 1];
      return { trainable: 2 * c, nonTrainable: 2 * c };
    }
    case 'dense':
      return { trainable: inputs[0][0] * attrs.units + (attrs.bias ? attrs.units : 0), nonTrainable: 0 };
    default:
      return { trainable: 0, nonTrainable: 0 };
  }
}

/**
 * Multiply-accumulates, torchvision/torchinfo convention: one per weight per output position for
 * convs (so groups divide it), in * out for dense; bias adds, BN, pooling, activations and adds
 * are not counted.
 */
export function countMacs(op: OpKind, attrs: Record<string, any>, inputs: number[][], out: number[]): number {
  if (op === 'conv') {
    const a = attrs as ConvAttrs;
    return out[0] * out[1] * a.filters * (inputs[0][2] / a.groups) * a.kernel[0] * a.kernel[1];
  }
  if (op === 'dense') return inputs[0][0] * attrs.units;
  return 0;
}

/** pycls's activations of a node: its output elements when it is a conv or dense layer, else 0. */
export function nodeActivations(n: { op: string; shape: readonly number[] }): number {
  return n.op === 'conv' || n.op === 'dense' ? n.shape.reduce((p, q) => p * q, 1) : 0;
}

/** What training holds, estimated per batch: every figure in bytes (float32). */
export interface TrainingMemory {
  batch: number;
  optimizer: 'sgd' | 'adam';
  weights: number;
  gradients: number;
  /** SGD's momentum buffer (1 per trainable weight) or Adam's two moments. */
  optimizerState: number;
  /** The forward activations backward needs, taken as all of them (an upper bound: TF.js and PyTorch free some). */
  activations: number;
  total: number;
}

/**
 * A training-memory estimate, as torchinfo's "estimated total size" extended to training:
 * weights (all, BN statistics included), one gradient per trainable weight, the optimizer's
 * state, and the forward activations of a batch. Kernels' scratch space and the framework's own
 * overhead are not in it, so real use is higher.
 */
export function trainingMemory(t: { params: number; trainableParams: number; activationBytes: number }, batch: number, optimizer: 'sgd' | 'adam' = 'sgd'): TrainingMemory {
  const weights = 4 * t.params;
  const gradients = 4 * t.trainableParams;
  const optimizerState = (optimizer === 'adam' ? 8 : 4) * t.trainableParams;
  const activations = t.activationBytes * batch;
  return { batch, optimizer, weights, gradients, optimizerState, activations, total: weights + gradients + optimizerState + activations };
}

