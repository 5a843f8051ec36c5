/**
 * torchvision's fresh initialisation as a plan: which tensor of the state_dict gets which
 * distribution, with which fan. Every target draws from this one plan with its own generator
 * (TF.js: seeded RandomNormal / RandomUniform initializers; ONNX: src/random's splitmix32), so
 * the distributions are written once:
 * - conv weight: kaiming_normal_(mode='fan_out', nonlinearity='relu'): N(0, sqrt(2 / fan_out)),
 *   fan_out = out_channels * kh * kw (PyTorch counts every output channel, groups or not).
 *   tf.initializers.heNormal would be wrong twice: fan_in, and a truncated normal.
 * - conv bias, linear weight and bias: PyTorch's default (reset_parameters),
 *   U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kh * kw for a conv and
 *   in_features for a linear (kaiming_uniform_ with a = sqrt(5) gives that bound for weights).
 * - batch norm: weight 1 (0 for the block-ending ones under zero-init residual, see
 *   block_last.ts), bias 0, running_mean 0, running_var 1.
 * The emitted PyTorch module gets the same from PyTorch itself: torchvision's loop
 * (kaiming_normal_ on every Conv2d, constants on every norm) written into its constructor, and
 * PyTorch's defaults for the rest.
 */
import { InternalError } from '../../errors/index.js';
import { opDef, type OpKind, type StateRole } from '../ops.js';
import { LAYER_SCALE_INIT } from '../ops/layer_scale.js';
import type { CompiledGraph, GraphNode } from '../types.js';
import { blockLastBatchNorms } from './block_last.js';
import { weightTensors, type StateTensor } from './state_dict.js';

/** One tensor's fresh values: every element drawn independently. */
export type Draw =
  /** N(0, std), std = sqrt(2 / fan_out). */
  | { kind: 'normal'; std: number; fanOut: number }
  /** U(-bound, bound), bound = 1 / sqrt(fan_in). */
  | { kind: 'uniform'; bound: number; fanIn: number }
  | { kind: 'constant'; value: number };

export interface InitEntry extends StateTensor {
  draw: Draw;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const kaimingFanOut = (weight: readonly number[]): Draw => {
  const fanOut = weight[0] * weight[2] * weight[3];
  return { kind: 'normal', std: Math.sqrt(2 / fanOut), fanOut };
};
const fanInUniform = (fanIn: number): Draw => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn), fanIn });

/**
 * The draw of one tensor of a node, given the node's weight shape (PyTorch's layout: the fan is
 * counted as PyTorch counts it). One entry per op, so a new op is a tsc error here until someone
 * decides its initialisation; `undefined` for the ops without parameters.
 */
type Rule = (role: StateRole, weight: readonly number[], zeroGamma: boolean) => Draw;
const RULES: Record<OpKind, Rule | undefined> = {
  conv: (role, weight) => (role === 'weight' ? kaimingFanOut(weight) : fanInUniform(size(weight.slice(1)))),
  dense: (_role, weight) => fanInUniform(weight[1]),
  bn: (role, _weight, zeroGamma) => ({ kind: 'constant', value: role === 'running_var' ? 1 : role === 'weight' && !zeroGamma ? 1 : 0 }),
  // nn.LayerNorm's reset_parameters: weight ones, bias zeros.
  layernorm: (role) => ({ kind: 'constant', value: role === 'weight' ? 1 : 0 }),
  layer_scale: () => ({ kind: 'constant', value: LAYER_SCALE_INIT }),
  input: undefined,
  relu: undefined,
  relu6: undefined,
  sigmoid: undefined,
  silu: undefined,
  tanh: undefined,
  hardswish: undefined,
  hardsigmoid: undefined,
  gelu: undefined,
  maxpool: undefined,
  avgpool: undefined,
  zeropad: undefined,
  subsample: undefined,
  channel_pad: undefined,
  global_avg_pool: undefined,
  flatten: undefined,
  dropout: undefined,
  drop_path: undefined,
  add: undefined,
  mul: undefined,
};

export interface InitOptions {
  /** torchvision's zero_init_residual: the block-ending batch norms start with weight 0. */
  zeroInitResidual?: boolean;
}

/**
 * One node's draws by role, from its inputs' compiled shapes (what a target building layer by
 * layer has at hand). `zeroGamma`: the node is a block-ending batch norm under zero-init residual.
 */
export function nodeInit(node: GraphNode, inputs: number[][], zeroGamma = false): Partial<Record<StateRole, Draw>> {
  const entries = opDef(node.op).state(node.attrs, inputs, node.shape).filter((e) => e.kind !== 'counter');
  if (entries.length === 0) return {};
  const rule = RULES[node.op];
  if (rule === undefined) throw new InternalError(`${node.op} '${node.id}' has parameters but no initialisation (src/compiler/analyses/init.ts)`);
  const weight = entries.find((e) => e.role === 'weight')?.shape ?? [];
  return Object.fromEntries(entries.map((e) => [e.role, rule(e.role, weight, zeroGamma)]));
}

/** Every float tensor of the graph's state_dict, in its order, with its draw. */
export function initPlan(graph: CompiledGraph, options: InitOptions = {}): InitEntry[] {
  const zeroGamma = new Set(options.zeroInitResidual ? blockLastBatchNorms(graph) : []);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const draws = new Map<string, Partial<Record<StateRole, Draw>>>();
  return weightTensors(graph).map((t) => {
    let d = draws.get(t.node.id);
    if (d === undefined) {
      d = nodeInit(t.node, t.node.inputs.map((i) => byId.get(i)!.shape), zeroGamma.has(t.node.id));
      draws.set(t.node.id, d);
    }
    return { ...t, draw: d[t.role]! };
  });
}
