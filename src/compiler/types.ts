import type { Graph } from '@dagrejs/graphlib';
import type { Loc } from '../parser/location.js';

/** Shortcut rules, chosen globally or per stage (docs/dsl.md "Shortcuts"). */
export type ShortcutRule = 'projection' | 'identity' | 'zeropad' | 'conv' | 'avgdown' | 'identity_or_none' | 'none';

export interface ConvAttrs {
  filters: number;
  kernel: [number, number];
  stride: [number, number];
  /** Explicit symmetric-or-not zero padding, PyTorch style: [top, bottom, left, right]. */
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

export interface BnAttrs {
  /** PyTorch's epsilon (default 1e-5). */
  epsilon: number;
  /** PyTorch's momentum convention: running = (1 - m) * running + m * batch (default 0.1). */
  momentum: number;
  /** The last BN of a built-in block's main path (its gamma starts at 0 under zero-init residual). */
  blockLast?: boolean;
}

export interface PoolAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number];
  /**
   * PyTorch's ceil_mode=True with count_include_pad=False (only used by the ResNet-D `avgdown`
   * shortcut pool, as timm builds it). Equals TensorFlow's 'same' pooling for kernel == stride.
   */
  ceil: boolean;
}

export interface InputAttrs {
  /** [height, width, channels]. */
  shape: number[];
}

export interface ZeroPadAttrs {
  /** [top, bottom, left, right]. */
  padding: [number, number, number, number];
}

/** x[::sh, ::sw, :] (the CIFAR "option A" shortcut). */
export interface SubsampleAttrs {
  stride: [number, number];
}

/** Zero channels added before/after the existing ones. */
export interface ChannelPadAttrs {
  before: number;
  after: number;
}

/** Mean over H and W; [C] or (keepdims) [1, 1, C]. */
export interface GlobalAvgPoolAttrs {
  keepdims: boolean;
}

export interface DropoutAttrs {
  rate: number;
}

/** Stochastic depth (Huang et al. 2016, timm's DropPath): drop a block's residual branch per sample. */
export interface DropPathAttrs {
  /** Probability that a sample's branch is dropped (training only; identity at inference). */
  rate: number;
}

export interface DenseAttrs {
  units: number;
  bias: boolean;
}

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
  /** The gate on the excitation (default sigmoid). */
  gate?: 'sigmoid';
  /** Local names of the six nodes, where a family names them its own way. */
  names?: Record<string, string | undefined>;
}

/** The activations a block may end with (`post`). */
export type ActivationOp = 'relu' | 'relu6' | 'sigmoid' | 'silu' | 'tanh';

/** Ops without attributes. */
export type NoAttrs = Record<string, never>;

/**
 * Every op the compiled graph can hold, with its attributes. Shapes are channels-last and exclude
 * the batch: [height, width, channels] for maps, [features] for flat tensors. Adding an op here
 * makes tsc name every target whose switch over ops lacks it (see ops.ts for the table).
 */
export interface OpAttrs {
  input: InputAttrs;
  conv: ConvAttrs;
  bn: BnAttrs;
  relu: NoAttrs;
  relu6: NoAttrs;
  sigmoid: NoAttrs;
  silu: NoAttrs;
  tanh: NoAttrs;
  maxpool: PoolAttrs;
  avgpool: PoolAttrs;
  zeropad: ZeroPadAttrs;
  subsample: SubsampleAttrs;
  channel_pad: ChannelPadAttrs;
  global_avg_pool: GlobalAvgPoolAttrs;
  flatten: NoAttrs;
  dropout: DropoutAttrs;
  /** On a block's main path, before the add: x * keep_mask / (1 - rate) per sample, in training. */
  drop_path: DropPathAttrs;
  dense: DenseAttrs;
  /** Two inputs of equal shape: [main, shortcut]. */
  add: NoAttrs;
  /** Two inputs: [x, gate]; gate [1, 1, C] broadcast over H and W (squeeze-excitation). */
  mul: NoAttrs;
}

export type OpKind = keyof OpAttrs;

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

export interface CompiledGraph {
  name: string;
  input: { height: number; width: number; channels: number };
  classes: number;
  /** Nodes in a topological order (inputs before users); nodes[0] is the input. */
  nodes: GraphNode[];
  /** id of the node whose output is the model output. */
  output: string;
  totals: Totals;
  stages: StageSummary[];
  /** The same nodes as a @dagrejs/graphlib Graph (node label = GraphNode, edges input -> user). */
  graph: Graph<{ name: string }, GraphNode, EdgeLabel>;
  /** The file that was compiled. */
  file: string;
}
