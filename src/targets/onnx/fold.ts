/**
 * `--fold`: each batch norm whose only input is a conv, and which is that conv's only user, goes
 * into the conv's weight and bias: with s = gamma / sqrt(running_var + eps),
 * W' = W * s (per output channel) and b' = (b - running_mean) * s + beta. The plan is the batch
 * norm half of src/targets/tfjs/fold.ts's planFolding, written again here (targets do not import each
 * other); the relu fusion there is TF.js's fused kernel and has no place in ONNX, where
 * onnxruntime fuses Conv + Relu itself.
 */
import type { BnAttrs, CompiledGraph, GraphNode } from '../../compiler/types.js';

/** conv id -> the batch norm folded into it. */
export function planBatchNormFolding(graph: CompiledGraph): Map<string, string> {
  const users = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) for (const id of node.inputs) users.set(id, [...(users.get(id) ?? []), node]);
  const plan = new Map<string, string>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv' || node.id === graph.output) continue;
    const u = users.get(node.id);
    if (u?.length === 1 && u[0].op === 'bn') plan.set(node.id, u[0].id);
  }
  return plan;
}

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
