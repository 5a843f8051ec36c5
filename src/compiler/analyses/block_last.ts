/**
 * The batch norms that end each residual block's main path: under zero-init residual (torchvision's
 * `zero_init_residual`) their weight starts at 0, so every block starts as the identity. Every
 * target that initialises weights reads this one list.
 */
import type { OpKind } from '../ops.js';
import type { CompiledGraph } from '../types.js';

/**
 * Ops that keep a main path's value what its last BN made it, up to an elementwise change
 * (activations, the SE multiply's x, dropout): walking back from an add crosses them. One entry
 * per op, so a new op is a tsc error here until someone decides.
 */
const KEEPS_BLOCK_PATH: Record<OpKind, boolean> = {
  input: false,
  conv: false,
  bn: false,
  relu: true,
  relu6: true,
  sigmoid: true,
  silu: true,
  tanh: true,
  maxpool: false,
  avgpool: false,
  zeropad: false,
  subsample: false,
  channel_pad: false,
  global_avg_pool: false,
  flatten: false,
  dropout: true,
  drop_path: true,
  dense: false,
  add: false,
  mul: true,
};

/**
 * The block-ending batch norms, in graph order: those the compiler marks `blockLast` (the built-in
 * blocks), and, for blocks written by hand, the BN found walking back from each add's main input
 * (its first) through the ops above; a conv first means none (a pre-activation block).
 */
export function blockLastBatchNorms(graph: CompiledGraph): string[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const found = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op === 'bn' && node.attrs.blockLast === true) found.add(node.id);
    if (node.op !== 'add') continue;
    let cur = byId.get(node.inputs[0]);
    while (cur !== undefined && KEEPS_BLOCK_PATH[cur.op]) cur = byId.get(cur.inputs[0]);
    if (cur?.op === 'bn') found.add(cur.id);
  }
  return graph.nodes.filter((n) => found.has(n.id)).map((n) => n.id);
}
