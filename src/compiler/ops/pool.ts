import { convOut, hw, needMap, pair, poolOutCeil, quad, st, stateless, tooSmall, type WrittenOpDef } from './define.js';

export interface PoolAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number];
  /**
   * PyTorch's ceil_mode=True with count_include_pad=False (only used by the ResNet-D `avgdown`
   * shortcut pool, as timm builds it). Equals TensorFlow's 'same' pooling for kernel == stride.
   */
  ceil: boolean;
}

/** nn.MaxPool2d / nn.AvgPool2d: the same attributes and shape rule. */
function pool(op: 'maxpool' | 'avgpool', description: string, example: string): WrittenOpDef<PoolAttrs> {
  return {
    description,
    plan(args) {
      const [kernel, stride, padding] = ['kernel', 'stride', 'padding'].map((k) => args.numbers(k));
      if (!kernel || !stride || !padding) return undefined;
      const k = pair(kernel);
      return { kernel: k, stride: stride.length ? pair(stride) : k, padding: padding.length ? quad(padding) : [0, 0, 0, 0], ceil: false };
    },
    shape(a, [x]) {
      const bad = needMap(op, x);
      if (bad) return bad;
      const [h, w, c] = x;
      if (a.padding[0] * 2 > a.kernel[0] || a.padding[2] * 2 > a.kernel[1]) {
        return { code: 'invalid-value', message: `pool padding (${a.padding.join(', ')}) must be at most half the kernel (${a.kernel.join('x')}), as in PyTorch.` };
      }
      const out = a.ceil ? poolOutCeil : convOut;
      const ho = out(h, a.kernel[0], a.stride[0], a.padding[0], a.padding[1]);
      const wo = out(w, a.kernel[1], a.stride[1], a.padding[2], a.padding[3]);
      if (ho < 1 || wo < 1) return tooSmall(op, x, [ho, wo]);
      return [ho, wo, c];
    },
    ...stateless,
    activation: false,
    example: { layer: example, takes: 'map', gives: 'map' },
    keepsBlockPath: false,
    describe: (a) => `${op} ${hw(a.kernel)}${st(a.stride)}${a.ceil ? ' ceil' : ''}`,
  };
}

export const maxpool = pool('maxpool', 'Max pooling.', '{ op: maxpool, kernel: 3, stride: 2, padding: 1 }');
export const avgpool = pool('avgpool', "Average pooling (padding counted as zeros, PyTorch's default).", '{ op: avgpool, kernel: 3, stride: 1, padding: 1 }');
