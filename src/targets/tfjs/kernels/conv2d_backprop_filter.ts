import * as tf from '@tensorflow/tfjs';
import { convGeometry, liveTaps, tapOffset, type ConvGeometry } from './geometry.js';
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
    const live = liveTaps(g);
    const perChunk = Math.max(1, Math.floor(patchBudget / (g.inC * positions)));
    const parts: tf.TensorInfo[] = [];
    for (let i = 0; i < live.length; i += perChunk) {
      const cols = patchesChannelMajor(k, x, g, live.slice(i, i + perChunk));
      parts.push(k.run('BatchMatMul', { a: cols, b: dy2 }, { transposeA: false, transposeB: false }));
    }
    if (live.length === taps) {
      const dw = parts.length === 1 ? parts[0] : k.run('Concat', parts as unknown as tf.NamedTensorInfoMap, { axis: 0 });
      return k.reshape(dw, [g.kh, g.kw, g.inC, g.outC]);
    }
    // Taps that only meet padding get no gradient: zero rows, the live ones copied in place.
    const block = g.inC * g.outC;
    return k.make([g.kh, g.kw, g.inC, g.outC], (out) => {
      out.fill(0);
      let n = 0;
      for (const part of parts) {
        const v = k.view(part);
        for (let r = 0; r < v.length; r += block, n++) out.set(v.subarray(r, r + block), live[n] * block);
      }
    });
  });
}

/**
 * Patch rows (tap, c) for the given taps, in order: row (t, c), column (n, oh, ow) holds
 * x[n, oh*sh - top + i*dh, ow*sw - left + j*dw, c], zero where that falls in the padding.
 * x is first made channel-major by the backend's Transpose, so that every output row is a
 * sequential (or strided) read of one input row: a tenth of the time of gathering across channels.
 */
export function patchesChannelMajor(k: KernelScope, x: tf.TensorInfo, g: ConvGeometry, taps: number[]): tf.TensorInfo {
  const { batch, inH, inW, inC: C, outH, outW, sw } = g;
  const plane = batch * outH * outW;
  const xt = k.run('Transpose', { x }, { perm: [3, 0, 1, 2] }); // [C, N, H, W]
  if (g.sh === 1 && sw === 1 && outH === inH && outW === inW) return shiftedPlanes(k, xt, g, taps);
  return k.make([taps.length * C, plane], (out) => {
    const src = k.view(xt);
    for (let slot = 0; slot < taps.length; slot++) {
      const t = taps[slot];
      const [di, dj] = tapOffset(g, t);
      // Output columns whose input column is inside: ow in [lo, hi).
      const lo = Math.min(outW, Math.max(0, Math.ceil(-dj / sw)));
      const hi = Math.max(lo, Math.min(outW, Math.floor((inW - 1 - dj) / sw) + 1));
      for (let c = 0; c < C; c++) {
        let o = (slot * C + c) * plane;
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

/**
 * The patch rows of a stride-1 convolution whose output is as big as its input (every 3x3 'same'
 * conv of a ResNet): each row (tap, c) is the channel's whole [N, H, W] plane shifted by
 * di * W + dj, so one block copy per row does it; then the cells whose source lies in the padding
 * (|di| rows and |dj| columns of each image, where the flat shift crosses a row or image edge)
 * are zeroed, from a list made once per tap, as it is the same for every channel. The general
 * loop above works row by row, and rows are 1 to 16 floats wide at CIFAR sizes: this is several
 * times faster there.
 */
function shiftedPlanes(k: KernelScope, xt: tf.TensorInfo, g: ConvGeometry, taps: number[]): tf.TensorInfo {
  const { batch, inH: H, inW: W, inC: C } = g;
  const plane = batch * H * W;
  return k.make([taps.length * C, plane], (out) => {
    const src = k.view(xt);
    for (let slot = 0; slot < taps.length; slot++) {
      const t = taps[slot];
      const [di, dj] = tapOffset(g, t);
      const rowsStart = slot * C * plane;
      const zeros = paddingCells(batch, H, W, di, dj);
      const shift = di * W + dj;
      // Destination cells [d0, d1) have their source inside the plane; the rest are in `zeros`.
      const d0 = Math.max(0, -shift);
      const d1 = Math.min(plane, plane - shift);
      for (let c = 0; c < C; c++) {
        const o = rowsStart + c * plane;
        const from = c * plane + shift;
        out.set(src.subarray(from + d0, from + d1), o + d0);
        for (let z = 0; z < zeros.length; z++) out[o + zeros[z]] = 0;
      }
    }
  });
}

/** Cells of one [N, H, W] plane whose source, shifted by (di, dj) (a live tap: |di| < H, |dj| < W), is padding. */
function paddingCells(batch: number, H: number, W: number, di: number, dj: number): Int32Array {
  const cells: number[] = [];
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < H; r++) {
      const rowOut = r + di < 0 || r + di >= H;
      for (let w = 0; w < W; w++) {
        if (rowOut || w + dj < 0 || w + dj >= W) cells.push((n * H + r) * W + w);
      }
    }
  }
  return Int32Array.from(cells);
}
