import * as tf from '@tensorflow/tfjs';
import { withKernelScope } from './scope.js';

/**
 * dx of a 2-D max-pool, NHWC: each window's dy goes to the window's first maximum in row-major
 * order, padding never counting (TF.js's cpu rule). Replaces wasm's MaxPoolGrad, which drops the
 * gradient of every window whose values are all negative (it finds no maximum above 0), so a
 * max-pool that does not follow a ReLU trains wrongly there. One pass over the input.
 */
export function maxPoolGradComposed(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
  backendName: string,
): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  return withKernelScope(args.backend, backendName, (k) =>
    k.make([...input.shape], (dx) => {
      dx.fill(0);
      const x = k.view(input);
      const g = k.view(dy);
      const best = new Float32Array(C);
      const where = new Int32Array(C);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            best.fill(-Infinity);
            where.fill(-1);
            for (let i = 0; i < kh; i++) {
              const r = oh * sh - top + i;
              if (r < 0 || r >= H) continue;
              for (let j = 0; j < kw; j++) {
                const col = ow * sw - left + j;
                if (col < 0 || col >= W) continue;
                const base = ((n * H + r) * W + col) * C;
                for (let c = 0; c < C; c++) {
                  const v = x[base + c];
                  if (v > best[c]) {
                    best[c] = v;
                    where[c] = base + c;
                  }
                }
              }
            }
            const out = ((n * OH + oh) * OW + ow) * C;
            for (let c = 0; c < C; c++) if (where[c] >= 0) dx[where[c]] += g[out + c];
          }
    }),
  );
}
