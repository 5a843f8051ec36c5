import * as tf from '@tensorflow/tfjs';
import { convGeometry, type ConvGeometry } from './geometry.js';
import { withKernelScope, type KernelScope } from './scope.js';

/** Largest patch matrix (in floats) built at once; bigger problems are split by kernel taps. */
let patchBudget = 1 << 24;

/** Sets the patch-matrix budget in floats (default 2^24, 64 MiB); returns the previous one. */
export function setPatchBudget(floats: number): number {
  const previous = patchBudget;
  patchBudget = Math.max(1, Math.floor(floats));
  return previous;
}

/**
 * dW = im2col(x)^T . dy: the patch matrix is written by one loop over x, channel-major
 * ([taps * C, N * OH * OW]), so that the backend's BatchMatMul runs untransposed (wasm's takes a
 * slow path, about 12x, for transposeA). Big problems go in chunks of taps.
 */
export function conv2dBackpropFilterIm2col(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}, backendName: string): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const g = convGeometry(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  return withKernelScope(args.backend, backendName, (k) => {
    const positions = g.batch * g.outH * g.outW;
    const dy2 = k.reshape(dy, [positions, g.outC]);
    const taps = g.kh * g.kw;
    const perChunk = Math.max(1, Math.floor(patchBudget / (g.inC * positions)));
    const parts: tf.TensorInfo[] = [];
    for (let t0 = 0; t0 < taps; t0 += perChunk) {
      const cols = patchesChannelMajor(k, x, g, t0, Math.min(taps, t0 + perChunk));
      parts.push(k.run('BatchMatMul', { a: cols, b: dy2 }, { transposeA: false, transposeB: false }));
    }
    const dw = parts.length === 1 ? parts[0] : k.run('Concat', parts as unknown as tf.NamedTensorInfoMap, { axis: 0 });
    return k.reshape(dw, [g.kh, g.kw, g.inC, g.outC]);
  });
}

/**
 * Patch rows (tap, c) for taps [t0, t1): row (t, c), column (n, oh, ow) holds
 * x[n, oh*sh - top + i*dh, ow*sw - left + j*dw, c], zero where that falls in the padding.
 * x is first made channel-major by the backend's Transpose, so that every output row is a
 * sequential (or strided) read of one input row: a tenth of the time of gathering across channels.
 */
export function patchesChannelMajor(k: KernelScope, x: tf.TensorInfo, g: ConvGeometry, t0: number, t1: number): tf.TensorInfo {
  const { batch, inH, inW, inC: C, outH, outW, sw } = g;
  const plane = batch * outH * outW;
  const xt = k.run('Transpose', { x }, { perm: [3, 0, 1, 2] }); // [C, N, H, W]
  return k.make([(t1 - t0) * C, plane], (out) => {
    const src = k.view(xt);
    for (let t = t0; t < t1; t++) {
      const di = Math.floor(t / g.kw) * g.dh - g.top;
      const dj = (t % g.kw) * g.dw - g.left;
      // Output columns whose input column is inside: ow in [lo, hi).
      const lo = Math.min(outW, Math.max(0, Math.ceil(-dj / sw)));
      const hi = Math.max(lo, Math.min(outW, Math.floor((inW - 1 - dj) / sw) + 1));
      for (let c = 0; c < C; c++) {
        let o = ((t - t0) * C + c) * plane;
        for (let n = 0; n < batch; n++) {
          const image = (c * batch + n) * inH;
          for (let oh = 0; oh < outH; oh++, o += outW) {
            const r = oh * g.sh + di;
            if (r < 0 || r >= inH) {
              out.fill(0, o, o + outW);
              continue;
            }
            const row = (image + r) * inW + dj;
            if (lo > 0) out.fill(0, o, o + lo);
            if (sw === 1) {
              for (let ow = lo; ow < hi; ow++) out[o + ow] = src[row + ow];
            } else {
              for (let ow = lo; ow < hi; ow++) out[o + ow] = src[row + ow * sw];
            }
            if (hi < outW) out.fill(0, o + hi, o + outW);
          }
        }
      }
    }
  });
}
