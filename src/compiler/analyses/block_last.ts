/**
 * The batch norms that end each residual block's main path: under zero-init residual (torchvision's
 * `zero_init_residual`) their weight starts at 0, so every block starts as the identity. Every
 * target that initialises weights reads this one list.
 */
import { opDef } from '../ops.js';
import type { CompiledGraph } from '../types.js';

/**
 * The block-ending batch norms, in graph order: those the compiler marks `blockLast` (the built-in
 * blocks), and, for blocks written by hand, the BN found walking back from each add's main input
 * (its first) through the ops that keep it (the registry's keepsBlockPath: activations, dropout,
 * drop_path, the SE multiply); a conv first means none (a pre-activation block).
 */
export function blockLastBatchNorms(graph: CompiledGraph): string[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const found = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op === 'bn' && node.attrs.blockLast === true) found.add(node.id);
    if (node.op !== 'add') continue;
    let cur = byId.get(node.inputs[0]);
    while (cur !== undefined && opDef(cur.op).keepsBlockPath) cur = byId.get(cur.inputs[0]);
    if (cur?.op === 'bn') found.add(cur.id);
  }
  return graph.nodes.filter((n) => found.has(n.id)).map((n) => n.id);
}
