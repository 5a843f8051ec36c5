/**
 * torchvision's fresh initialisation as a plan: which tensor of the state_dict gets which
 * distribution, with which fan. Every target draws from this one plan with its own generator
 * (TF.js: seeded RandomNormal / RandomUniform initializers; ONNX: src/random's splitmix32), so
 * the distributions are written once: each op's rule is in its definition (`init`, from
 * ops/init_rules.ts: kaiming normal by fan_out for a conv weight, PyTorch's U(+-1/sqrt(fan_in))
 * for conv biases and linear layers, constants for norms); this file applies them to a graph.
 * Batch norm's weight is 0 for the block-ending ones under zero-init residual (block_last.ts).
 * The emitted PyTorch module gets the same from PyTorch itself: torchvision's loop
 * (kaiming_normal_ on every Conv2d, constants on every norm) written into its constructor, and
 * PyTorch's defaults for the rest.
 */
import { InternalError } from '../../errors/index.js';
import { opDef, type StateRole } from '../ops.js';
import type { Draw } from '../ops/init_rules.js';
import type { CompiledGraph, GraphNode } from '../types.js';
import { blockLastBatchNorms } from './block_last.js';
import { weightTensors, type StateTensor } from './state_dict.js';

export type { Draw } from '../ops/init_rules.js';

export interface InitEntry extends StateTensor {
  draw: Draw;
}

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
  const rule = opDef(node.op).init;
  if (rule === null) throw new InternalError(`${node.op} '${node.id}' has parameters but its definition has no initialisation rule (\`init\` in src/compiler/ops/)`);
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
