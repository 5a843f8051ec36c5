import type { DiagnosticCode } from '../parser/index.js';
import type { ConvAttrs, OpKind, PoolAttrs } from './types.js';

/** A shape rule's refusal; the builder turns it into a located diagnostic. */
export interface ShapeError {
  code: DiagnosticCode;
  message: string;
  hint?: string;
}

const fmt = (s: readonly number[]) => s.join('x');

/** PyTorch's output size of a conv/pool along one axis (floor mode). */
export function convOut(size: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation = 1): number {
  return Math.floor((size + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** PyTorch's ceil_mode output size: a window may not start inside the right padding. */
export function poolOutCeil(size: number, kernel: number, stride: number, padBefore: number, padAfter: number): number {
  let out = Math.ceil((size + padBefore + padAfter - kernel) / stride) + 1;
  if ((out - 1) * stride >= size + padBefore) out--;
  return out;
}

/**
 * Output shape of one op from its input shapes (channels-last, no batch), with PyTorch's
 * arithmetic. Returns a ShapeError instead of a shape when the inputs cannot fit.
 */
export function inferShape(op: OpKind, attrs: Record<string, any>, inputs: number[][]): number[] | ShapeError {
  const x = inputs[0];
  const needMap = (): ShapeError | undefined =>
    x.length === 3 ? undefined : { code: 'shape-mismatch', message: `"${op}" needs a [height, width, channels] map, but its input is flat [${fmt(x)}].`, hint: 'Put it before the global_avg_pool/flatten of the head.' };
  switch (op) {
    case 'input':
      return attrs.shape as number[];
    case 'conv': {
      const bad = needMap();
      if (bad) return bad;
      const a = attrs as ConvAttrs;
      const [h, w, c] = x;
      if (c % a.groups !== 0 || a.filters % a.groups !== 0) {
        return {
          code: 'groups-mismatch',
          message: `groups=${a.groups} must divide both the input channels (${c}) and the filters (${a.filters}).`,
          hint: `Choose groups among the common divisors of ${c} and ${a.filters}.`,
        };
      }
      if ((a.stride[0] > 1 || a.stride[1] > 1) && (a.dilation[0] > 1 || a.dilation[1] > 1)) {
        return {
          code: 'invalid-value',
          message: `a conv cannot combine stride ${a.stride.join('x')} with dilation ${a.dilation.join('x')}: the TensorFlow.js runtime has no such convolution.`,
          hint: "Dilated ResNets (torchvision replace_stride_with_dilation) keep stride 1 where they dilate: set stride: 1 on this stage or conv. After a dilated stage, block 0 of the next takes its dilation (first_dilation's default): a strided stage there needs first_dilation: 1.",
        };
      }
      const ho = convOut(h, a.kernel[0], a.stride[0], a.padding[0], a.padding[1], a.dilation[0]);
      const wo = convOut(w, a.kernel[1], a.stride[1], a.padding[2], a.padding[3], a.dilation[1]);
      if (ho < 1 || wo < 1) return tooSmall(op, x, [ho, wo]);
      return [ho, wo, a.filters];
    }
    case 'maxpool':
    case 'avgpool': {
      const bad = needMap();
      if (bad) return bad;
      const a = attrs as PoolAttrs;
      const [h, w, c] = x;
      if (a.padding[0] * 2 > a.kernel[0] || a.padding[2] * 2 > a.kernel[1]) {
        return { code: 'invalid-value', message: `pool padding (${a.padding.join(', ')}) must be at most half the kernel (${a.kernel.join('x')}), as in PyTorch.` };
      }
      const out = a.ceil ? poolOutCeil : convOut;
      const ho = out(h, a.kernel[0], a.stride[0], a.padding[0], a.padding[1]);
      const wo = out(w, a.kernel[1], a.stride[1], a.padding[2], a.padding[3]);
      if (ho < 1 || wo < 1) return tooSmall(op, x, [ho, wo]);
      return [ho, wo, c];
    }
    case 'subsample': {
      const bad = needMap();
      if (bad) return bad;
      const [sh, sw] = attrs.stride as [number, number];
      return [Math.ceil(x[0] / sh), Math.ceil(x[1] / sw), x[2]];
    }
    case 'zeropad': {
      const bad = needMap();
      if (bad) return bad;
      const [t, b, l, r] = attrs.padding as number[];
      return [x[0] + t + b, x[1] + l + r, x[2]];
    }
    case 'channel_pad':
      return [...x.slice(0, -1), x[x.length - 1] + attrs.before + attrs.after];
    case 'bn':
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'silu':
    case 'tanh':
    case 'dropout':
    case 'drop_path':
      return x;
    case 'global_avg_pool': {
      const bad = needMap();
      if (bad) return bad;
      return attrs.keepdims ? [1, 1, x[2]] : [x[2]];
    }
    case 'flatten':
      return [x.reduce((p, q) => p * q, 1)];
    case 'dense':
      if (x.length !== 1) {
        return {
          code: 'dense-not-flat',
          message: `"dense" needs a flat input, but it gets a [${fmt(x)}] map.`,
          hint: 'Add {op: global_avg_pool} (or {op: flatten}) before the dense layer.',
        };
      }
      return [attrs.units];
    case 'add': {
      const [a, b] = inputs;
      if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
        return { code: 'shape-mismatch', message: `the residual add joins ${fmt(a)} (main path) and ${fmt(b)} (shortcut).` };
      }
      return a;
    }
    case 'mul': {
      const [a, g] = inputs;
      if (g.length !== 3 || g[0] !== 1 || g[1] !== 1 || g[2] !== a[a.length - 1]) {
        return { code: 'shape-mismatch', message: `the gate ${fmt(g)} does not match the ${fmt(a)} map it scales.` };
      }
      return a;
    }
  }
}

function tooSmall(op: string, x: number[], out: number[]): ShapeError {
  return {
    code: 'spatial-too-small',
    message: `"${op}" would shrink the ${x[0]}x${x[1]} map to ${out[0]}x${out[1]}; every map must stay at least 1x1.`,
    hint: 'Use a larger input, fewer stride-2 stages, or smaller kernels.',
  };
}

export function isShapeError(x: number[] | ShapeError): x is ShapeError {
  return !Array.isArray(x);
}
