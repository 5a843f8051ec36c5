/**
 * The PyTorch state_dict of a compiled graph: every tensor's key, PyTorch shape and kind, in
 * torchvision's order (the graph's order, and within a node its op's order in the registry). The
 * compiler names every node by its torchvision/timm state_dict prefix, so a key is
 * `<node id>.<role>`: `layer1.0.conv1.weight`, `layer1.0.bn1.running_var`. Every target reads
 * this one layout (TF.js maps it to its variables, ONNX names its initializers by it, the PyTorch
 * file's modules produce it); none lists per-op tensors of its own.
 */
import { opDef, type StateEntry, type StateRole } from '../ops.js';
import type { CompiledGraph, GraphNode } from '../types.js';

export interface StateTensor {
  /** `layer1.0.conv1.weight`. */
  key: string;
  /** The node it belongs to (its id is the key's prefix). */
  node: GraphNode;
  role: StateRole;
  /** PyTorch's layout: conv [O, I/groups, kh, kw], dense [out, in] (`in` flattened as C, H, W). */
  shape: number[];
  /** `param` (trained), `buffer` (float statistics) or `counter` (an integer step count, no weight). */
  kind: StateEntry['kind'];
}

/** Every tensor of the graph's state_dict, in torchvision's order, counters included. */
export function stateDictLayout(graph: CompiledGraph): StateTensor[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out: StateTensor[] = [];
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((i) => byId.get(i)!.shape);
    for (const e of opDef(node.op).state(node.attrs, inputs, node.shape)) {
      out.push({ key: e.role === 'self' ? node.id : `${node.id}.${e.role}`, node, role: e.role, shape: e.shape, kind: e.kind });
    }
  }
  return out;
}

/** The float tensors (parameters and buffers): what a weights file must hold and a target loads. */
export function weightTensors(graph: CompiledGraph): StateTensor[] {
  return stateDictLayout(graph).filter((t) => t.kind !== 'counter');
}

/** Keys of the graph's step counters (BN num_batches_tracked): accepted in a weights file, never needed. */
export function counterKeys(graph: CompiledGraph): Set<string> {
  return new Set(stateDictLayout(graph).filter((t) => t.kind === 'counter').map((t) => t.key));
}
