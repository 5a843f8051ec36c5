import { InternalError } from '../parser/index.js';
import type { GraphNode, NodeOf, OpKind } from './types.js';

/** The execution targets: one folder each (src/runtime is TensorFlow.js, src/torch PyTorch). */
export type Target = 'tfjs' | 'torch';

/**
 * THE table of ops and the targets that implement them. Keyed by every OpKind, so a new op in
 * types.ts does not compile until it has a row here; each target's switch over ops ends in
 * `unreachableOp`, so tsc also names every target that lacks it. test/compiler/ops.test.ts checks
 * that each target's own list of ops equals its column here.
 */
export const OP_TABLE: { readonly [K in OpKind]: readonly Target[] } = {
  input: ['tfjs', 'torch'],
  conv: ['tfjs', 'torch'],
  bn: ['tfjs', 'torch'],
  relu: ['tfjs', 'torch'],
  relu6: ['tfjs', 'torch'],
  sigmoid: ['tfjs', 'torch'],
  silu: ['tfjs', 'torch'],
  tanh: ['tfjs', 'torch'],
  maxpool: ['tfjs', 'torch'],
  avgpool: ['tfjs', 'torch'],
  zeropad: ['tfjs', 'torch'],
  subsample: ['tfjs', 'torch'],
  channel_pad: ['tfjs', 'torch'],
  global_avg_pool: ['tfjs', 'torch'],
  flatten: ['tfjs', 'torch'],
  dropout: ['tfjs', 'torch'],
  drop_path: ['tfjs', 'torch'],
  dense: ['tfjs', 'torch'],
  add: ['tfjs', 'torch'],
  mul: ['tfjs', 'torch'],
};

/** Every op, in the table's order. */
export const OP_KINDS = Object.keys(OP_TABLE) as OpKind[];

/** The ops one target implements, by the table. */
export function opsOf(target: Target): OpKind[] {
  return OP_KINDS.filter((op) => OP_TABLE[op].includes(target));
}

/** The `default:` of an exhaustive switch over ops: tsc fails here when a case is missing. */
export function unreachableOp(node: never, target: string): never {
  const n = node as { op?: string; id?: string };
  throw new InternalError(`the ${target} target cannot emit op '${n.op}' (node ${n.id})`);
}

/** `node`, checked to be a `K` node (a lookup by id that must find one). */
export function nodeAs<K extends OpKind>(node: GraphNode | undefined, op: K): NodeOf<K> {
  if (node?.op !== op) throw new InternalError(`expected a ${op} node, found ${node ? `${node.op} ${node.id}` : 'none'}`);
  return node as NodeOf<K>;
}
