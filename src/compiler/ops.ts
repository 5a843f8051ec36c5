/**
 * THE op registry: every op the compiled graph can hold, each defined once in src/compiler/ops/
 * (its attributes, how a written layer becomes them, its shape rule, state_dict entries, MACs,
 * activations and description; see ops/define.ts). The compiler reads everything about an op from
 * here; each target implements the ops in a typed `Record<OpKind, ...>` or an exhaustive switch
 * ending in `unreachableOp`, so adding an op here makes tsc name every target that lacks it.
 *
 * Adding an op: its entry in schemas/architecture.schema.json (then `npm run gen:validator`) when
 * files may write it, its file in src/compiler/ops/ and a line below, one entry per target (TF.js
 * emit.ts, PyTorch leaves.ts, ONNX export.ts), the docs (docs/dsl.md). Its file decides everything
 * else: its initialisation (`init`), whether it is an activation (a word for `post` and an SE's
 * `activation` when it has no attributes; then the schema's activation enums list it too), and
 * an example, from which the ops test, the conformance matrix and the random architectures of the
 * property tests run it. No other file lists ops.
 */
import type { ActivationName } from '../parser/ast.js';
import type { LayerOp } from '../parser/index.js';
import { InternalError } from '../errors/index.js';
import { gelu, hardsigmoid, hardswish, relu, relu6, sigmoid, silu, tanh } from './ops/activations.js';
import { bn } from './ops/bn.js';
import { channel_pad } from './ops/channel_pad.js';
import { conv } from './ops/conv.js';
import { dense } from './ops/dense.js';
import type { LayerArgs, NoAttrs, OpDef } from './ops/define.js';
import { drop_path } from './ops/drop_path.js';
import { dropout } from './ops/dropout.js';
import { flatten } from './ops/flatten.js';
import { global_avg_pool } from './ops/global_avg_pool.js';
import { input } from './ops/input.js';
import { layer_scale } from './ops/layer_scale.js';
import { layernorm } from './ops/layernorm.js';
import { leaky_relu } from './ops/leaky_relu.js';
import { add, mul } from './ops/merge.js';
import { avgpool, maxpool } from './ops/pool.js';
import { subsample } from './ops/subsample.js';
import { zeropad } from './ops/zeropad.js';
import type { GraphNode, NodeOf } from './types.js';

export type { LayerArgs, NoAttrs, OpDef, OpExample, ShapeError, StateEntry, StateRole } from './ops/define.js';
export { LAYER_SCALE_INIT } from './ops/layer_scale.js';

/** Every op, in the order tables and docs list them. */
export const OPS = {
  input,
  conv,
  bn,
  layernorm,
  layer_scale,
  relu,
  relu6,
  sigmoid,
  silu,
  tanh,
  hardswish,
  hardsigmoid,
  gelu,
  leaky_relu,
  maxpool,
  avgpool,
  zeropad,
  subsample,
  channel_pad,
  global_avg_pool,
  flatten,
  dropout,
  drop_path,
  dense,
  add,
  mul,
};

export type OpKind = keyof typeof OPS;

/** The attributes of each op, as its definition types them. */
export type OpAttrs = { [K in OpKind]: (typeof OPS)[K] extends OpDef<infer A> ? A : never };

/** Ops a file may write (the schema's layer ops but the two the compiler expands: `se` and `use`). */
export type WrittenOp = Exclude<LayerOp, 'se' | 'use'>;

/**
 * Every op the schema lets a file write is in the registry, with a `plan`: a schema op without one
 * is a tsc error on this line (and an op the registry has but the schema lacks never reaches a plan).
 */
export const WRITTEN_OPS: { readonly [K in WrittenOp]: OpDef<OpAttrs[K]> & { plan: (args: LayerArgs) => OpAttrs[K] | undefined } } = OPS;

/** Every op, in the registry's order. */
export const OP_KINDS = Object.keys(OPS) as OpKind[];

/** The ops whose definition is an ActivationDef (`activation: true`): elementwise, stateless. */
type ActivationKind = { [K in OpKind]: (typeof OPS)[K] extends { activation: true } ? K : never }[OpKind];
/**
 * The activations a file may name as a word (a block's `post`, an SE's `activation`): the
 * registry's activations without attributes.
 */
export type ActivationOp = { [K in ActivationKind]: OpAttrs[K] extends NoAttrs ? K : never }[ActivationKind];
/**
 * The schema's activation words (its `post` and `activation` enums, src/parser/generated) are
 * exactly the registry's: tsc fails here when an activation is in one and not the other.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type SchemaActivationsMatch<T extends true = Same<ActivationName, ActivationOp>> = T;
/** Every activation of the registry (with or without attributes), in its order. */
export const ACTIVATION_KINDS: readonly OpKind[] = OP_KINDS.filter((op) => OPS[op].activation);
/** Whether `op` (an op kind, or any other name a printer draws) is one of the registry's activations. */
export const isActivation = (op: string): boolean => (ACTIVATION_KINDS as readonly string[]).includes(op);

/** The definition of an op, typed by its kind. */
export function opDef<K extends OpKind>(op: K): OpDef<OpAttrs[K]> {
  // The registry's entries are keyed by their own op, so the lookup has the key's attribute type.
  return OPS[op] as unknown as OpDef<OpAttrs[K]>;
}

/** The execution targets: one folder each (src/targets/tfjs is TensorFlow.js, src/targets/torch PyTorch, src/targets/onnx ONNX). */
export type Target = 'tfjs' | 'torch' | 'onnx';

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
