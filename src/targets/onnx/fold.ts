/**
 * `--fold`: the arithmetic of folding a batch norm into its conv, on Float32Arrays. Which batch
 * norm goes into which conv is the compiler's fold plan (src/compiler/analyses/fold.ts, shared
 * with TF.js's `skipgraph fold`), taken without relu fusion: onnxruntime fuses Conv + Relu itself.
 * With s = gamma / sqrt(running_var + eps): W' = W * s (per output channel) and
 * b' = (b - running_mean) * s + beta.
 */
import type { BnAttrs } from '../../compiler/types.js';

/** The folded weight [O, ...] and bias [O] of one conv. */
export function foldConvBn(weight: Float32Array, bias: Float32Array | undefined, bn: { weight: Float32Array; bias: Float32Array; running_mean: Float32Array; running_var: Float32Array }, attrs: BnAttrs): { weight: Float32Array; bias: Float32Array } {
  const o = bn.weight.length;
  const per = weight.length / o;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(o);
  for (let c = 0; c < o; c++) {
    // In float64, rounded once to float32 at the end.
    const s = bn.weight[c] / Math.sqrt(bn.running_var[c] + attrs.epsilon);
    for (let i = c * per; i < (c + 1) * per; i++) w[i] = weight[i] * s;
    b[c] = ((bias?.[c] ?? 0) - bn.running_mean[c]) * s + bn.bias[c];
  }
  return { weight: w, bias: b };
}
