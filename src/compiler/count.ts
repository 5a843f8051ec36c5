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
