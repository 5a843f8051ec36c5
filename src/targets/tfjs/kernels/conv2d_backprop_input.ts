import * as tf from '@tensorflow/tfjs';
import { convGeometry, liveTaps, reach, tapOffset, type ConvGeometry } from './geometry.js';
import { withKernelScope, type KernelScope } from './scope.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

export type BackpropInputMethod = 'auto' | 'conv' | 'matmul';
let method: BackpropInputMethod = 'auto';

/** Forces one formulation (tests, benchmarks); returns the previous setting. */
export function setBackpropInputMethod(next: BackpropInputMethod): BackpropInputMethod {
  const previous = method;
  method = next;
  return previous;
}

/**
 * dx for a 2-D convolution, NHWC. Two formulations, picked by which side is bigger:
 * - byConv: a stride-1 correlation of dy (zero-interleaved by the stride) with the flipped,
 *   in/out-swapped filter, on the backend's Conv2D (XNNPACK on wasm): best when activations are
 *   large and the filter small (early layers);
 * - byMatmul: cols = W . dy^T as one untransposed matmul with the filter as the left operand,
 *   then col2im by one accumulating loop; taps that only meet padding are skipped. Best for late
 *   layers, where the filter is large and the spatial size small.
 */
export function conv2dBackpropInputComposed(args: KernelArgs, backendName: string): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const g = convGeometry(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const filterSize = g.kh * g.kw * g.inC * g.outC;
  const inputSize = g.batch * g.inH * g.inW * g.inC;
  // Measured on ResNet-18 shapes (wasm): byConv wins only at stride 1 with a filter not much
  // bigger than the input; the zero-interleaved strided case wastes stride^2 of its MACs.
  const strided = g.sh * g.sw > 1;
  const useMatmul = method === 'auto' ? strided || filterSize > 4 * inputSize : method === 'matmul';
  return withKernelScope(args.backend, backendName, (k) => (useMatmul ? byMatmul(k, dy, filter, g) : byConv(k, dy, filter, g)));
}

function byConv(k: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const taps = g.kh * g.kw;
  const { inC: C, outC: Co } = g;
  // [kh, kw, C, Co] -> [kh, kw, Co, C] with taps reversed, in one pass (wasm's Reverse is an
  // element loop about 10x slower than this).
  const kernel = k.make([g.kh, g.kw, Co, C], (out) => {
    const w = k.view(filter);
    for (let t = 0; t < taps; t++) {
      const dst = (taps - 1 - t) * Co * C;
      const src = t * C * Co;
      for (let c = 0; c < C; c++) {
        const s = src + c * Co;
        for (let o = 0; o < Co; o++) out[dst + o * C + c] = w[s + o];
      }
    }
  });
  // Zero-interleave: [N, OH, OW, Co] -> [N, OH*sh, OW*sw, Co] with dy at multiples of the stride.
  let src = dy;
  if (g.sh > 1 || g.sw > 1) {
    const six = k.reshape(dy, [g.batch, g.outH, 1, g.outW, 1, Co]);
    const spread = k.run('PadV2', { x: six }, {
      paddings: [[0, 0], [0, 0], [0, g.sh - 1], [0, 0], [0, g.sw - 1], [0, 0]],
      constantValue: 0,
    });
    src = k.reshape(spread, [g.batch, g.outH * g.sh, g.outW * g.sw, Co]);
  }
  // A stride-1 'full' correlation: dx row r sees spread rows r + top - (kh - 1) ... r + top.
  const padTop = g.kh - 1 - g.top;
  const padLeft = g.kw - 1 - g.left;
  const padBottom = g.inH + g.kh - 1 - padTop - src.shape[1];
  const padRight = g.inW + g.kw - 1 - padLeft - src.shape[2];
  if (Math.min(padTop, padLeft, padBottom, padRight) < 0) {
    const h = src.shape[1] + Math.min(0, padTop) + Math.min(0, padBottom);
    const w = src.shape[2] + Math.min(0, padLeft) + Math.min(0, padRight);
    src = k.run('Slice', { x: src }, {
      begin: [0, Math.max(0, -padTop), Math.max(0, -padLeft), 0],
      size: [g.batch, h, w, Co],
    });
  }
  const pad = [[0, 0], [Math.max(0, padTop), Math.max(0, padBottom)], [Math.max(0, padLeft), Math.max(0, padRight)], [0, 0]];
  return k.run('Conv2D', { x: src, filter: kernel }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
}

function byMatmul(k: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { batch, inH, inW, inC: C, outH, outW, outC: Co } = g;
  const positions = batch * outH * outW;
  const live = liveTaps(g);
  const dyT = k.run('Transpose', { x: k.reshape(dy, [positions, Co]) }, { perm: [1, 0] });
  const all = live.length === g.kh * g.kw;
  const rows = all
    ? k.reshape(filter, [live.length * C, Co])
    : k.make([live.length * C, Co], (out) => {
        const w = k.view(filter);
        live.forEach((t, n) => out.set(w.subarray(t * C * Co, (t + 1) * C * Co), n * C * Co));
      });
  const cols = k.run('BatchMatMul', { a: rows, b: dyT }, { transposeA: false, transposeB: false });
  // col2im, channel-major so that each output row is a sequential add, then NHWC by Transpose:
  // dx[n, oh*sh - top + i, ow*sw - left + j, c] += cols[(tap, c), (n, oh, ow)].
  const dxT = k.make([C, batch, inH, inW], (dx) => {
    dx.fill(0);
    const src = k.view(cols);
    live.forEach((t, slot) => {
      const [i, j] = tapOffset(g, t);
      const [qh, nh] = reach(outH, g.sh, i, inH);
      const [qw, nw] = reach(outW, g.sw, j, inW);
      for (let c = 0; c < C; c++) {
        const base = (slot * C + c) * positions;
        for (let n = 0; n < batch; n++) {
          for (let oh = qh; oh < qh + nh; oh++) {
            const from = base + (n * outH + oh) * outW;
            const to = ((c * batch + n) * inH + oh * g.sh + i) * inW + j;
            for (let ow = qw; ow < qw + nw; ow++) dx[to + ow * g.sw] += src[from + ow];
          }
        }
      }
    });
  });
  return k.run('Transpose', { x: dxT }, { perm: [1, 2, 3, 0] });
}
