import { outputNodes } from '../../compiler/features.js';
import type { CompiledGraph } from '../../compiler/types.js';

/** One graph output: the tensor's name and the compiled node whose value it carries. */
export interface OnnxOutput {
  name: string;
  node: string;
}

/**
 * The graph's outputs: a classifier's logits under their node's value name (as before), or one
 * output per feature of a backbone, named by the feature (`layer1`), in the file's order. A feature
 * whose value carries another name (a stage's last node, `layer1.2.relu`) gets an Identity node
 * that gives the output its name; `identity` adds it. A feature named like another node's tensor
 * would give that name two producers: refused (the caller raises OnnxExportError).
 */
export function graphOutputs(graph: CompiledGraph, value: (id: string) => string, identity: (from: string, to: string) => void): OnnxOutput[] | string {
  if (graph.kind === 'classifier') return [{ name: value(graph.output), node: graph.output }];
  // The tensors the graph holds (a folded batch norm's value is its conv's: no tensor of its own).
  const produced = new Set(graph.nodes.map((n) => value(n.id)));
  const out: OnnxOutput[] = [];
  for (const f of graph.features) {
    const src = value(f.node);
    if (src !== f.name) {
      if (produced.has(f.name)) return `the feature "${f.name}" is also a node's name: ONNX would hold two tensors of that name; rename the node`;
      identity(src, f.name);
    }
    out.push({ name: f.name, node: f.node });
  }
  return out;
}

/** Whether a node's value leaves the graph (no value_info entry for it then). */
export function isOutputNode(graph: CompiledGraph): (id: string) => boolean {
  const outs = new Set(outputNodes(graph));
  return (id) => outs.has(id);
}
