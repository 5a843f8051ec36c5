import type { Graph } from '@dagrejs/graphlib';
import type { Loc } from '../parser/location.js';
import type { OpAttrs, OpKind } from './ops.js';

/** Shortcut rules, chosen globally or per stage (docs/dsl.md "Shortcuts"). */
export type ShortcutRule = 'projection' | 'identity' | 'zeropad' | 'conv' | 'avgdown' | 'identity_or_none' | 'none';

export type { ConvAttrs } from './ops/conv.js';
export type { BnAttrs } from './ops/bn.js';
export type { PoolAttrs } from './ops/pool.js';
export type { InputAttrs } from './ops/input.js';
export type { ZeroPadAttrs } from './ops/zeropad.js';
export type { SubsampleAttrs } from './ops/subsample.js';
export type { ChannelPadAttrs } from './ops/channel_pad.js';
export type { GlobalAvgPoolAttrs } from './ops/global_avg_pool.js';
export type { DropoutAttrs } from './ops/dropout.js';
export type { DropPathAttrs } from './ops/drop_path.js';
export type { DenseAttrs } from './ops/dense.js';
/** Every op the compiled graph can hold and its attributes: defined in the registry (ops.ts). */
export type { NoAttrs, OpAttrs, OpKind } from './ops.js';

/**
 * A planned `se` layer (not a graph op: the compiler expands it to pool, fc1, relu, fc2, gate,
 * scale). Its squeeze width is `squeeze`, or `ratio` of its input, or input // `reduction`.
 */
export interface SeAttrs {
  reduction?: number;
  ratio?: number;
  squeeze?: number;
  /** The activation between the two 1x1 convs (default relu; EfficientNet's SqueezeExcitation has SiLU). */
  activation?: ActivationOp;
  /** The gate on the excitation (default sigmoid; MobileNetV3's is hardsigmoid). */
  gate?: 'sigmoid' | 'hardsigmoid';
  /** Local names of the six nodes, where a family names them its own way. */
  names?: Record<string, string | undefined>;
}

/** The activations a block may end with (`post`): the registry's, in ops.ts. */
import type { ActivationOp } from './ops.js';
export type { ActivationOp };

/** An op with its attributes, as a discriminated union keyed by `op`. */
export type OpSpec = { [K in OpKind]: { op: K; attrs: OpAttrs[K] } }[OpKind];

export interface ParamCount {
  /** Conv weights and biases, BN gamma and beta, dense weight and bias. */
  trainable: number;
  /** BN running mean and running variance. */
  nonTrainable: number;
}

/** Why the compiler added a node the YAML did not spell out. */
export interface Insertion {
  rule: ShortcutRule;
  /** Human words: "stride 2", "channels 64 -> 128", "stride 2, channels 64 -> 256". */
  reason: string;
  /** The block (stage entry) that caused it. */
  blockLoc: Loc;
}

interface NodeBase {
  /** torchvision/timm state_dict prefix: conv1, bn1, layer2.0.conv1, layer2.0.downsample.0, fc. */
  id: string;
  /** Input node ids, in order (for add: [main, shortcut]; for mul: [x, gate]). */
  inputs: string[];
  /** Output shape without the batch dimension, channels-last. */
  shape: number[];
  params: ParamCount;
  /** Multiply-accumulates of conv and dense ops (torchvision/torchinfo convention); 0 elsewhere. */
  macs: number;
  /** Present on nodes a shortcut rule added. */
  inserted?: Insertion;
  /** Which path of a residual block the node is on; absent outside blocks. */
  path?: 'main' | 'shortcut';
  /** Stage name (layer1...) and block index, for grouping and collapsing. */
  stage?: string;
  block?: number;
  /** Where in the YAML this node comes from (the layer, or the stage for built-in blocks). */
  loc: Loc;
}

/** One node of the compiled graph: a union keyed by `op`, so `attrs` narrows with it. */
export type GraphNode = { [K in OpKind]: NodeBase & { op: K; attrs: OpAttrs[K] } }[OpKind];

/** The node type of one op: NodeOf<'conv'>. */
export type NodeOf<K extends OpKind> = Extract<GraphNode, { op: K }>;

export interface Totals {
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  macs: number;
  /** Float32 bytes of every node's output, the input included, for one sample (the forward activations). */
  activationBytes: number;
  /** The batch the estimate below is for (CompileOptions.batch, --batch; default 32). */
  batch: number;
  /** activationBytes x batch. */
  activationBytesAtBatch: number;
  /** 2 x macs: one multiply and one add each. (fvcore's and pycls's "flops" are MACs.) */
  flops: number;
  /** pycls's activations: output elements of every conv and dense node, for one sample. */
  activations: number;
}

export interface StageSummary {
  name: string;
  blocks: number;
  /** Output shape of the stage's last block. */
  shape: number[];
  loc: Loc;
}

export interface EdgeLabel {
  /** The tensor shape that flows along the edge. */
  shape: number[];
  /** True for the skip path of a residual block (the edge into the add that bypasses the main path). */
  skip: boolean;
}

/** One map a backbone returns (`features:`): timm's feature_info entry. */
export interface Feature {
  /** As written in `features:` (a stage name or a node id); the output's name on every target. */
  name: string;
  /** The node whose output it is (a stage's last node, or the node named). */
  node: string;
  channels: number;
  /** Input height / map height (timm's `reduction`): 4 for a ResNet's layer1 at any input size. */
  reduction: number;
  /** [height, width, channels] without the batch, channels-last as every shape here. */
  shape: number[];
  /** The `features:` item. */
  loc: Loc;
}

interface GraphBase {
  name: string;
  input: { height: number; width: number; channels: number };
  /** Nodes in a topological order (inputs before users); nodes[0] is the input. */
  nodes: GraphNode[];
  totals: Totals;
  stages: StageSummary[];
  /** The same nodes as a @dagrejs/graphlib Graph (node label = GraphNode, edges input -> user). */
  graph: Graph<{ name: string }, GraphNode, EdgeLabel>;
  /** The file that was compiled. */
  file: string;
}

/** A network with a head: one output, the logits over `classes`. */
export interface ClassifierGraph extends GraphBase {
  kind: 'classifier';
  classes: number;
  /** id of the node whose output is the model output. */
  output: string;
}

/**
 * A backbone (`features:`, no head): it returns several maps, in the file's order. Nodes that feed
 * none of them are not in the graph (timm's features_only stops at the last one returned).
 */
export interface BackboneGraph extends GraphBase {
  kind: 'backbone';
  features: Feature[];
}

/**
 * The checked graph. Which kind it is decides what it returns: consumers that need logits (train,
 * verify, top-k) narrow on `kind` and refuse a backbone with a clear error.
 */
export type CompiledGraph = ClassifierGraph | BackboneGraph;
