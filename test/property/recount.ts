/**
 * Per-node recount from a compiled graph's own attributes and shapes, with formulas written here
 * (not the compiler's count.ts or shapes.ts): output shape, trainable and non-trainable
 * parameters, MACs. Every op is recounted (see recountNode): none is taken as 0 by default.
 */
import type { CompiledGraph, GraphNode, NodeOf, OpKind } from '../../src/compiler/index.js';
import { isActivation, opDef, OP_KINDS } from '../../src/compiler/ops.js';
import { outputNodes } from '../../src/compiler/index.js';

export interface NodeCount {
  shape: number[];
  trainable: number;
  nonTrainable: number;
  macs: number;
}

const floorOut = (n: number, k: number, s: number, a: number, b: number, d = 1) => Math.floor((n + a + b - d * (k - 1) - 1) / s) + 1;
/** PyTorch ceil_mode: round up, but the last window must start inside the input or left padding. */
const ceilOut = (n: number, k: number, s: number, a: number, b: number) => {
  let o = Math.ceil((n + a + b - k) / s) + 1;
  if ((o - 1) * s >= n + a) o -= 1;
  return o;
};

type Nodes = { [K in OpKind]: NodeOf<K> };
type Recounts = { readonly [K in OpKind]?: (n: Nodes[K], x: number[]) => NodeCount };
const none = { trainable: 0, nonTrainable: 0, macs: 0 };
function pool({ attrs: a }: NodeOf<'maxpool' | 'avgpool'>, x: number[]): NodeCount {
  const f = a.ceil ? ceilOut : floorOut;
  return { shape: [f(x[0], a.kernel[0], a.stride[0], a.padding[0], a.padding[1]), f(x[1], a.kernel[1], a.stride[1], a.padding[2], a.padding[3]), x[2]], ...none };
}
const join = (_: unknown, x: number[]): NodeCount => ({ shape: x, ...none });

/** By hand, per op (an op without a formula here: see recountNode). */
const RECOUNT: Recounts = {
  input: ({ attrs: a }) => ({ shape: a.shape, ...none }),
  conv: ({ attrs: a }, x) => {
    const [kh, kw] = a.kernel;
    const [t, b, l, r] = a.padding;
    const ho = floorOut(x[0], kh, a.stride[0], t, b, a.dilation[0]);
    const wo = floorOut(x[1], kw, a.stride[1], l, r, a.dilation[1]);
    const perFilter = kh * kw * (x[2] / a.groups);
    return { shape: [ho, wo, a.filters], trainable: perFilter * a.filters + (a.bias ? a.filters : 0), nonTrainable: 0, macs: perFilter * a.filters * ho * wo };
  },
  bn: (_, x) => ({ shape: x, trainable: 2 * x[x.length - 1], nonTrainable: 2 * x[x.length - 1], macs: 0 }),
  layernorm: (_, x) => ({ shape: x, trainable: 2 * x[x.length - 1], nonTrainable: 0, macs: 0 }),
  layer_scale: (_, x) => ({ shape: x, trainable: x[2], nonTrainable: 0, macs: 0 }),
  maxpool: pool,
  avgpool: pool,
  zeropad: ({ attrs: a }, x) => ({ shape: [x[0] + a.padding[0] + a.padding[1], x[1] + a.padding[2] + a.padding[3], x[2]], ...none }),
  subsample: ({ attrs: a }, x) => ({ shape: [Math.ceil(x[0] / a.stride[0]), Math.ceil(x[1] / a.stride[1]), x[2]], ...none }),
  channel_pad: ({ attrs: a }, x) => ({ shape: [x[0], x[1], x[2] + a.before + a.after], ...none }),
  global_avg_pool: ({ attrs: a }, x) => ({ shape: a.keepdims ? [1, 1, x[2]] : [x[2]], ...none }),
  flatten: (_, x) => ({ shape: [x.reduce((p, q) => p * q, 1)], ...none }),
  dropout: (_, x) => ({ shape: x, ...none }),
  drop_path: (_, x) => ({ shape: x, ...none }),
  dense: ({ attrs: a }, x) => {
    if (a.pointwise) return { shape: [x[0], x[1], a.units], trainable: x[2] * a.units + (a.bias ? a.units : 0), nonTrainable: 0, macs: x[0] * x[1] * x[2] * a.units };
    return { shape: [a.units], trainable: x[0] * a.units + (a.bias ? a.units : 0), nonTrainable: 0, macs: x[0] * a.units };
  },
  add: join,
  mul: join,
};

/** Ops without a formula here that are not activations: recounted by their own definition. */
export const RECOUNT_BY_REGISTRY = OP_KINDS.filter((op) => RECOUNT[op] === undefined && !isActivation(op));

/**
 * A node's shape and counts: by hand where RECOUNT has a formula; an activation (the registry's
 * contract: elementwise, stateless) keeps its input's shape with no parameters; any other op by
 * its definition (shape rule, state_dict entries, MACs), which checks how it composes with the
 * rest, not its own numbers (the cross-target tests compare those with PyTorch's module).
 */
export function recountNode(n: GraphNode, ins: number[][]): NodeCount {
  const own = byHand(n.op, n, ins[0]);
  if (own) return own;
  if (isActivation(n.op)) return { shape: ins[0], ...none };
  const def = opDef(n.op);
  const shape = def.shape(n.attrs, ins);
  if (!Array.isArray(shape)) throw new Error(`${n.id}: ${shape.message}`);
  const state = def.state(n.attrs, ins, shape);
  const sum = (kind: string) => state.filter((e) => e.kind === kind).reduce((t, e) => t + e.shape.reduce((p, q) => p * q, 1), 0);
  return { shape, trainable: sum('param'), nonTrainable: sum('buffer'), macs: def.macs(n.attrs, ins, shape) };
}

/** RECOUNT's formula for the node, keyed by its op (undefined when it has none). */
function byHand<K extends OpKind>(op: K, n: Nodes[K], x: number[]): NodeCount | undefined {
  const f = RECOUNT[op];
  return f?.(n, x);
}

export interface GraphCheck {
  trainable: number;
  nonTrainable: number;
  macs: number;
  activationBytes: number;
  /** Human-readable problems; empty when the graph is consistent. */
  problems: string[];
}

/** Recounts every node, checks every add/mul joins fitting shapes and the order is topological. */
export function recountGraph(g: CompiledGraph): GraphCheck {
  const byId = new Map<string, GraphNode>();
  const problems: string[] = [];
  let trainable = 0;
  let nonTrainable = 0;
  let macs = 0;
  let activationBytes = 0;
  const eq = (p: number[], q: number[]) => p.length === q.length && p.every((v, i) => v === q[i]);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (!byId.has(i)) problems.push(`${n.id}: input ${i} is not an earlier node`);
    const ins = n.inputs.map((i) => byId.get(i)?.shape ?? []);
    const r = recountNode(n, ins);
    if (!eq(r.shape, n.shape)) problems.push(`${n.id} (${n.op}): shape ${n.shape} but recount gives ${r.shape}`);
    if (r.trainable !== n.params.trainable || r.nonTrainable !== n.params.nonTrainable) problems.push(`${n.id}: params ${JSON.stringify(n.params)} but recount gives ${r.trainable}/${r.nonTrainable}`);
    if (r.macs !== n.macs) problems.push(`${n.id}: macs ${n.macs} but recount gives ${r.macs}`);
    if (n.op === 'add') {
      if (n.inputs.length !== 2 || !eq(ins[0], ins[1])) problems.push(`${n.id}: add joins ${ins.map((s) => s.join('x')).join(' and ')}`);
    }
    if (n.op === 'mul' && !(ins[1].length === 3 && ins[1][0] === 1 && ins[1][1] === 1 && ins[1][2] === ins[0][2])) problems.push(`${n.id}: gate ${ins[1]} for ${ins[0]}`);
    if (n.shape.some((v) => !Number.isInteger(v) || v < 1)) problems.push(`${n.id}: shape ${n.shape} has a size below 1`);
    trainable += r.trainable;
    nonTrainable += r.nonTrainable;
    macs += r.macs;
    activationBytes += 4 * r.shape.reduce((p, q) => p * q, 1); // the input counts (issue 19 item 7)
    byId.set(n.id, n);
  }
  if (g.nodes[0]?.op !== 'input') problems.push('nodes[0] is not the input');
  for (const o of outputNodes(g)) if (!byId.has(o)) problems.push(`output ${o} is not a node`);
  if (g.graph.nodeCount() !== g.nodes.length) problems.push('graphlib node count differs');
  if (g.graph.edgeCount() !== g.nodes.reduce((k, n) => k + new Set(n.inputs).size, 0)) problems.push('graphlib edge count differs');
  return { trainable, nonTrainable, macs, activationBytes, problems };
}
