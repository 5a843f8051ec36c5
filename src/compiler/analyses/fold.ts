/**
 * The conv + batch-norm fold plan, shared by every target that folds (`skipgraph fold` for TF.js,
 * `export --target onnx --fold`): which batch norm goes into which conv, and which relu a target
 * may fuse after it. Batch norm at inference is a per-channel affine map,
 * y = (x - mean) * s + beta with s = gamma / sqrt(var + eps), so conv-then-bn is one conv with
 * weight W * s (per output channel) and bias (b - mean) * s + beta; each target does that
 * arithmetic on its own tensors.
 *
 * A node is absorbed only when it is the sole user of the conv's (or the absorbed batch norm's)
 * output, and neither is the graph's output, so no other node ever needed the value the fold
 * removes. Batch norms not preceded by a conv (pre-activation blocks) stay as they are.
 */
import { outputNodes } from '../features.js';
import type { CompiledGraph, GraphNode, NodeOf } from '../types.js';

/** One conv of the folded model and what was folded into it. */
export interface FoldedConv {
  /** The conv's node id: the folded layer keeps this name. */
  conv: string;
  /** The batch norm folded into the weight and bias. */
  bn?: string;
  /** The relu fused into the conv (only where the target's `fuseRelu` allows it). */
  activation?: string;
}

export interface FoldPlan {
  convs: FoldedConv[];
  /** Node id of each folded batch norm or fused relu -> the conv whose output now is its value. */
  absorbedInto: Map<string, string>;
}

export interface FoldOptions {
  /**
   * Which convs may also take the relu that follows (TF.js: plain convs, its fused kernel). None
   * without it: ONNX Runtime fuses Conv + Relu itself.
   */
  fuseRelu?: (conv: NodeOf<'conv'>) => boolean;
}

export function planFolding(graph: CompiledGraph, options: FoldOptions = {}): FoldPlan {
  const users = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    for (const id of node.inputs) users.set(id, [...(users.get(id) ?? []), node]);
  }
  // A model output (the logits, or any feature of a backbone) is never folded away.
  const outputs = new Set(outputNodes(graph));
  const soleUser = (id: string): GraphNode | undefined => {
    const u = users.get(id);
    return !outputs.has(id) && u?.length === 1 ? u[0] : undefined;
  };
  const plan: FoldPlan = { convs: [], absorbedInto: new Map() };
  for (const node of graph.nodes) {
    if (node.op !== 'conv') continue;
    const chain: FoldedConv = { conv: node.id };
    let next = soleUser(node.id);
    if (next?.op === 'bn') {
      chain.bn = next.id;
      next = soleUser(next.id);
    }
    if (next?.op === 'relu' && options.fuseRelu?.(node) === true) chain.activation = next.id;
    if (chain.bn === undefined && chain.activation === undefined) continue;
    plan.convs.push(chain);
    for (const id of [chain.bn, chain.activation]) if (id !== undefined) plan.absorbedInto.set(id, node.id);
  }
  return plan;
}
