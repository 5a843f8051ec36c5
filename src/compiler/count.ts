import { opDef, type OpAttrs, type OpKind } from './ops.js';
import type { ParamCount } from './types.js';

const size = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

/**
 * Parameter counts, torchvision's convention, from the op's state_dict entries in the registry:
 * its parameters (conv weights and bias, BN gamma and beta, dense weight and bias) as trainable,
 * its float buffers (BN running mean and variance) as non-trainable (torchinfo lists them as
 * buffers; Keras counts them as non-trainable weights); step counters are not weights.
 */
export function countParams<K extends OpKind>(op: K, attrs: OpAttrs[K], inputs: number[][], out: number[]): ParamCount {
  const count: ParamCount = { trainable: 0, nonTrainable: 0 };
  for (const e of opDef(op).state(attrs, inputs, out)) {
    if (e.kind === 'param') count.trainable += size(e.shape);
    else if (e.kind === 'buffer') count.nonTrainable += size(e.shape);
  }
  return count;
}

/**
 * Multiply-accumulates, torchvision/torchinfo convention (the op's rule in the registry): one per
 * weight per output position for convs (so groups divide it), in * out for dense; bias adds, BN,
 * pooling, activations and adds are not counted.
 */
export function countMacs<K extends OpKind>(op: K, attrs: OpAttrs[K], inputs: number[][], out: number[]): number {
  return opDef(op).macs(attrs, inputs, out);
}

/** pycls's activations of a node: its output elements when its op counts them (conv, dense), else 0. */
export function nodeActivations(n: { op: OpKind; shape: readonly number[] }): number {
  return opDef(n.op).countsActivations ? size(n.shape) : 0;
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

