import { InternalError } from '../parser/index.js';
import type { GraphNode, NodeOf, OpKind } from './types.js';

/** The execution targets: one folder each (src/targets/tfjs is TensorFlow.js, src/targets/torch PyTorch, src/targets/onnx ONNX). */
export type Target = 'tfjs' | 'torch' | 'onnx';

/**
 * THE table of ops and the targets that implement them. Keyed by every OpKind, so a new op in
 * types.ts does not compile until it has a row here; each target's switch over ops ends in
 * `unreachableOp`, so tsc also names every target that lacks it. test/compiler/ops.test.ts checks
 * that each target's own list of ops equals its column here.
 */
export const OP_TABLE: { readonly [K in OpKind]: readonly Target[] } = {
  input: ['tfjs', 'torch', 'onnx'],
  conv: ['tfjs', 'torch', 'onnx'],
  bn: ['tfjs', 'torch', 'onnx'],
  relu: ['tfjs', 'torch', 'onnx'],
  relu6: ['tfjs', 'torch', 'onnx'],
  sigmoid: ['tfjs', 'torch', 'onnx'],
  silu: ['tfjs', 'torch', 'onnx'],
  tanh: ['tfjs', 'torch', 'onnx'],
  maxpool: ['tfjs', 'torch', 'onnx'],
  avgpool: ['tfjs', 'torch', 'onnx'],
  zeropad: ['tfjs', 'torch', 'onnx'],
  subsample: ['tfjs', 'torch', 'onnx'],
  channel_pad: ['tfjs', 'torch', 'onnx'],
  global_avg_pool: ['tfjs', 'torch', 'onnx'],
  flatten: ['tfjs', 'torch', 'onnx'],
  dropout: ['tfjs', 'torch', 'onnx'],
  drop_path: ['tfjs', 'torch', 'onnx'],
  dense: ['tfjs', 'torch', 'onnx'],
  add: ['tfjs', 'torch', 'onnx'],
  mul: ['tfjs', 'torch', 'onnx'],
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
