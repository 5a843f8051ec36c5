/**
 * The conformance matrix's cases: for every op of the registry and every shortcut rule, tiny
 * architectures that exercise it (8x8x3 or 7x9x3 inputs, 4 to 8 channels). Every op's first case
 * is its example from the registry (OpDef.example, test/compiler/ops_examples.ts), so a new op is
 * in the matrix with no edit here; EDGE_CASES adds, for some ops, the cases an example cannot
 * show (asymmetric padding, clipping, negative inputs to a max-pool, train-mode dropout).
 * RULE_CASES is typed `Record<ShortcutRule, ...>`, so a new rule does not type-check until it has
 * a case here; matrix.test.ts also checks, at run time, that each case's compiled graph holds the
 * op (or uses the rule) it stands for.
 *
 * Most cases end without a head (`head: []`), so the compared output is the feature map itself,
 * where a wrong padding, stride or channel order shows at every position, not averaged away.
 */
import type { CompiledGraph, OpKind, ShortcutRule } from '../../src/compiler/index.js';
import { OP_KINDS } from '../../src/compiler/ops.js';
import type { BuiltinBlock } from '../../src/parser/index.js';
import { arch, exampleArch, STAGE, STEM } from '../compiler/ops_examples.js';
import type { Weights } from '../targets/onnx/helpers.js';

export interface Variant {
  /** What it exercises, in words: "grouped (depthwise) conv". */
  name: string;
  yaml: string;
  /** Adjusts the shared random weights before every target gets them. */
  weights?: (w: Weights, graph: CompiledGraph) => void;
  /** Adjusts the compiled graph before any target sees it (for a case YAML cannot write). */
  graph?: (g: CompiledGraph) => void;
}

const ODD = '{ height: 7, width: 9, channels: 3 }';
const GAP_DENSE = ['{ op: global_avg_pool }', '{ op: dense, units: $classes }'];

/** Every weight of the node `id` times `k`. */
const scale = (id: string, k: number) => (w: Weights) => {
  const t = w.get(`${id}.weight`);
  if (!t) throw new Error(`no weight ${id}.weight`);
  t.data.forEach((v, i) => (t.data[i] = v * k));
};

/** The gain and bias of every layernorm made distinct per channel (they start at ones and zeros). */
const layernormAffine = (w: Weights, g: CompiledGraph) => {
  for (const n of g.nodes.filter((m) => m.op === 'layernorm')) {
    w.get(`${n.id}.weight`)!.data.forEach((_, i, a) => (a[i] = 0.5 + 0.25 * (i % 5)));
    w.get(`${n.id}.bias`)!.data.forEach((_, i, a) => (a[i] = 0.1 * ((i % 3) - 1)));
  }
};

/** The bias of node `id` set to `v` (a conv with bias: true). */
const bias = (id: string, v: number) => (w: Weights) => {
  const t = w.get(`${id}.bias`);
  if (!t) throw new Error(`no bias ${id}.bias`);
  t.data.fill(v);
};

/** Per op, the cases its registry example cannot show (an op needs none). */
const EDGE_CASES: { readonly [K in OpKind]?: Variant[] } = {
  conv: [
    { name: 'kernel [3, 1], stride [2, 1], asymmetric padding, bias', yaml: arch('conv_asym', { input: ODD, stem: ['{ op: conv, filters: 6, kernel: [3, 1], stride: [2, 1], padding: [0, 1, 2, 0], bias: true }', '{ op: bn }', '{ op: relu }'] }) },
    { name: 'depthwise (groups 3) and 5x5 stride 2 on an odd map', yaml: arch('conv_groups', { input: ODD, stem: ['{ op: conv, filters: 6, kernel: 3, groups: 3 }', '{ op: conv, filters: 4, kernel: 5, stride: 2 }', '{ op: bn }'] }) },
    { name: 'grouped bottleneck (groups 2), then dilation 2 (a dilated stage)', yaml: arch('conv_dil', { stages: ['{ block: bottleneck, channels: 8, blocks: 1, stride: 2, groups: 2, width_per_group: 16 }', '{ block: basic, channels: 8, blocks: 1, stride: 1, dilation: 2 }'] }) },
  ],
  bn: [{ name: 'epsilon 1e-3, momentum 0.3 (train: running statistics)', yaml: arch('bn', { stem: ['{ op: conv, filters: 4, kernel: 3 }', '{ op: bn, epsilon: 0.001, momentum: 0.3 }', '{ op: relu }'] }) }],
  layernorm: [
    { name: "over the channels of a map, epsilon 1e-6 (ConvNeXt's LayerNorm2d)", yaml: arch('layernorm', { stem: ['{ op: conv, filters: 6, kernel: 3, bias: true }', '{ op: layernorm, epsilon: 1.0e-6 }'] }), weights: layernormAffine },
    { name: 'on a flat tensor in the head (nn.LayerNorm)', yaml: arch('layernorm_flat', { head: ['{ op: global_avg_pool }', '{ op: layernorm }', '{ op: dense, units: $classes }'] }), weights: layernormAffine },
  ],
  layer_scale: [
    {
      name: "a gain per channel on a block's branch, as ConvNeXt's CNBlock (gains randomised: 1e-6 would hide the branch)",
      yaml: arch('layer_scale', {
        stem: ['{ op: conv, filters: 6, kernel: 3 }', '{ op: bn }'],
        extra: ['blocks:', '  scaled:', '    layers:', '      - { op: conv, name: block.0, filters: 6, kernel: 3, groups: 6, bias: true }', '      - { op: layer_scale, name: layer_scale }', '    post: none'],
        stages: ['{ block: scaled, channels: 6, blocks: 2 }'],
      }),
      weights: (w, g) => g.nodes.filter((n) => n.op === 'layer_scale').forEach((n) => w.get(n.id)!.data.forEach((_, i, a) => (a[i] = 0.5 + 0.2 * i))),
    },
  ],
  relu6: [{ name: 'clipping (stem weights x8, so values pass 6)', yaml: arch('relu6', { stem: ['{ op: conv, filters: 4, kernel: 3 }', '{ op: relu6 }'] }), weights: scale('conv1', 8) }],
  tanh: [{ name: 'after a conv with bias (weights x4)', yaml: arch('tanh', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: tanh }'] }), weights: scale('conv1', 4) }],
  hardswish: [{ name: 'both kinks (weights x8, so values pass -3 and 3)', yaml: arch('hardswish', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: hardswish }'] }), weights: scale('conv1', 8) }],
  hardsigmoid: [
    { name: 'both kinks (weights x8, so values pass -3 and 3)', yaml: arch('hardsigmoid', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: hardsigmoid }'] }), weights: scale('conv1', 8) },
    { name: "squeeze-excitation's gate (MobileNetV3: relu inside, hardsigmoid gate)", yaml: arch('hardsigmoid_se', { stages: ['{ block: bottleneck, channels: 4, blocks: 1, stride: 2, se: { reduction: 4, gate: hardsigmoid } }'] }) },
  ],
  gelu: [{ name: 'after a conv with bias (weights x4)', yaml: arch('gelu', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: gelu }'] }), weights: scale('conv1', 4) }],
  maxpool: [
    { name: 'kernel 3, stride 2, padding 1 over negative values (padding never wins)', yaml: arch('maxpool_neg', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: maxpool, kernel: 3, stride: 2, padding: 1 }', '{ op: bn }'] }), weights: bias('conv1', -10) },
    { name: 'kernel 2 on a 7x9 map (floor)', yaml: arch('maxpool_odd', { input: ODD, stem: [...STEM, '{ op: maxpool, kernel: 2 }'] }) },
  ],
  avgpool: [
    { name: 'kernel 3, stride 1, padding 1 (padding counted as zeros)', yaml: arch('avgpool_pad', { stem: [...STEM, '{ op: avgpool, kernel: 3, stride: 1, padding: 1 }'] }) },
    { name: 'kernel [2, 3], stride [2, 3] on a 7x9 map', yaml: arch('avgpool_odd', { input: ODD, stem: [...STEM, '{ op: avgpool, kernel: [2, 3], stride: [2, 3] }'] }) },
    { name: "avgdown's ceil-mode pool (7x9, stride 2)", yaml: arch('avgpool_ceil', { input: ODD, shortcut: 'avgdown', stages: ['{ block: basic, channels: 8, blocks: 1, stride: 2 }'] }) },
  ],
  zeropad: [
    { name: 'padding [1, 0, 2, 1]', yaml: arch('zeropad', { stem: ['{ op: zeropad, padding: [1, 0, 2, 1] }', '{ op: conv, filters: 4, kernel: 3, stride: 2 }', '{ op: bn }'] }) },
    // onnxruntime's default graph optimisation merges a zero Pad into the MaxPool after it, whose
    // own padding is -inf: negative values and a pad as wide as the kernel show it.
    { name: 'padding 1, then a max-pool (kernel 3, stride 2) over negative values', yaml: arch('zeropad_maxpool', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: zeropad, padding: 1 }', '{ op: maxpool, kernel: 3, stride: 2 }', '{ op: bn }'] }), weights: bias('conv1', -10) },
    { name: 'padding 2, then a max-pool (kernel 3, padding 1): pads as wide as the kernel', yaml: arch('zeropad_maxpool_wide', { stem: ['{ op: conv, filters: 4, kernel: 3, bias: true }', '{ op: zeropad, padding: 2 }', '{ op: maxpool, kernel: 3, stride: 1, padding: 1 }', '{ op: bn }'] }), weights: bias('conv1', -10) },
  ],
  subsample: [{ name: "option A's x[::2, ::2] on a 7x9 map", yaml: arch('subsample', { input: ODD, shortcut: 'zeropad', stages: ['{ block: basic, channels: 8, blocks: 1, stride: 2 }'] }) }],
  channel_pad: [{ name: 'option A, 4 -> 7 channels (1 before, 2 after)', yaml: arch('channel_pad', { shortcut: 'zeropad', stages: ['{ block: basic, channels: 7, blocks: 1, stride: 2 }'] }) }],
  global_avg_pool: [{ name: 'then a dense head', yaml: arch('gap', { head: GAP_DENSE }) }],
  flatten: [
    { name: 'channels-last flatten, then a dense head', yaml: arch('flatten', { stages: ['{ block: basic, channels: 4, blocks: 1, stride: 2 }'], head: ['{ op: flatten }', '{ op: dense, units: $classes }'] }) },
    // The features keep their flattened order through elementwise ops: the dense layer's weights are still reordered.
    { name: 'flatten, then dropout and gelu before the dense layer', yaml: arch('flatten_dropout', { stages: ['{ block: basic, channels: 4, blocks: 1, stride: 2 }'], head: ['{ op: flatten }', '{ op: dropout, rate: 0 }', '{ op: gelu }', '{ op: dense, units: $classes }'] }) },
    {
      name: "flatten, then a layernorm (a gain and a bias per feature, in the flattened order) and a dense layer",
      yaml: arch('flatten_layernorm', { stages: ['{ block: basic, channels: 4, blocks: 1, stride: 2 }'], head: ['{ op: flatten }', '{ op: layernorm }', '{ op: dense, units: $classes }'] }),
      weights: layernormAffine,
    },
  ],
  dropout: [
    { name: 'rate 0.5 (eval: the identity)', yaml: arch('dropout', { head: ['{ op: global_avg_pool }', '{ op: dropout, rate: 0.5 }', '{ op: dense, units: $classes }'] }) },
    { name: 'rate 0 (train too)', yaml: arch('dropout0', { head: ['{ op: global_avg_pool }', '{ op: dropout, rate: 0 }', '{ op: dense, units: $classes }'] }) },
  ],
  drop_path: [
    { name: 'drop_path_rate 0.3 over 3 blocks (eval: the identity)', yaml: arch('drop_path', { extra: ['drop_path_rate: 0.3'], stages: ['{ block: basic, channels: 4, blocks: 3, stride: 1 }'] }) },
    {
      name: 'its rates set to 0 in the compiled graph (train too)',
      yaml: arch('drop_path0', { extra: ['drop_path_rate: 0.3'], stages: ['{ block: basic, channels: 4, blocks: 3, stride: 1 }'] }),
      graph: (g) => g.nodes.forEach((n) => n.op === 'drop_path' && (n.attrs.rate = 0)),
    },
  ],
  dense: [
    { name: 'two denses, the second without bias', yaml: arch('dense', { head: ['{ op: global_avg_pool }', '{ op: dense, units: 6 }', '{ op: relu }', '{ op: dense, units: $classes, bias: false }'] }) },
    {
      name: "pointwise on a 7x9 map's channels, with and without bias (ConvNeXt's nn.Linear on a permuted tensor)",
      yaml: arch('dense_pointwise', { input: ODD, stem: [...STEM, '{ op: dense, units: 7, pointwise: true }', '{ op: gelu }', '{ op: dense, units: 5, pointwise: true, bias: false }'] }),
    },
  ],
  mul: [
    { name: 'squeeze-excitation (reduction 2) in a bottleneck', yaml: arch('mul', { stages: ['{ block: bottleneck, channels: 4, blocks: 1, stride: 1, se: { reduction: 2 } }'] }) },
    { name: 'squeeze-excitation in basic blocks, stride 2', yaml: arch('mul2', { stages: ['{ block: basic, channels: 8, blocks: 2, stride: 2, se: { reduction: 4 } }'] }) },
    { name: 'squeeze-excitation with a silu between its convs (EfficientNet)', yaml: arch('mul3', { stages: ['{ block: bottleneck, channels: 4, blocks: 1, stride: 2, se: { reduction: 4, activation: silu } }'] }) },
  ],
};

/** Per op, the architectures that exercise it: its registry example, then its edge cases. */
export const OP_CASES: Record<OpKind, Variant[]> = Object.fromEntries(
  OP_KINDS.map((op) => [op, [{ name: "the registry's example", yaml: exampleArch(op) }, ...(EDGE_CASES[op] ?? [])]]),
) as Record<OpKind, Variant[]>;

/** Blocks of the graph (distinct stage and block index) and its residual adds. */
function blocksAndAdds(g: CompiledGraph): { blocks: number; adds: number } {
  const blocks = new Set(g.nodes.filter((n) => n.stage !== undefined && n.block !== undefined).map((n) => `${n.stage}/${n.block}`));
  return { blocks: blocks.size, adds: g.nodes.filter((n) => n.op === 'add').length };
}

/** What a rule's case must show in its compiled graph: the nodes it inserts, or which blocks have an add. */
const inserts = (rule: ShortcutRule) => (g: CompiledGraph) => g.nodes.some((n) => n.inserted?.rule === rule);

export interface RuleCase {
  variants: Variant[];
  /** Whether a compiled variant shows the rule at work. */
  shows(g: CompiledGraph): boolean;
}

const TWO_STAGES = [STAGE, '{ block: basic, channels: 8, blocks: 2, stride: 2 }'];

/** Per shortcut rule, the architectures that exercise it. */
export const RULE_CASES: Record<ShortcutRule, RuleCase> = {
  projection: {
    shows: inserts('projection'),
    variants: [
      { name: 'stride 2, 4 -> 8 channels (1x1 conv + BN)', yaml: arch('projection', { shortcut: 'projection', stages: [STAGE, '{ block: basic, channels: 8, blocks: 1, stride: 2 }'] }) },
      { name: 'pre-activation bottleneck (1x1 conv, no BN)', yaml: arch('projection_preact', { shortcut: 'projection', stages: ['{ block: preact_bottleneck, channels: 4, blocks: 1, stride: 2 }'], head: ['{ op: bn }', '{ op: relu }'] }) },
    ],
  },
  identity: {
    // Nothing inserted, and every block adds its input.
    shows: (g) => !g.nodes.some((n) => n.inserted) && blocksAndAdds(g).adds === blocksAndAdds(g).blocks,
    variants: [{ name: 'equal shapes only', yaml: arch('identity', { shortcut: 'identity', stages: ['{ block: basic, channels: 4, blocks: 2, stride: 1 }'] }) }],
  },
  zeropad: {
    shows: inserts('zeropad'),
    variants: [{ name: 'stride 2 on a 7x9 map, 4 -> 8 channels', yaml: arch('zeropad_rule', { input: ODD, shortcut: 'zeropad', stages: [STAGE, '{ block: basic, channels: 8, blocks: 1, stride: 2 }'] }) }],
  },
  conv: {
    shows: inserts('conv'),
    variants: [{ name: 'always projects: stride 1 and stride 2', yaml: arch('conv_rule', { shortcut: 'conv', stages: [STAGE, '{ block: basic, channels: 8, blocks: 1, stride: 2 }'] }) }],
  },
  avgdown: {
    shows: inserts('avgdown'),
    variants: [
      { name: 'stride 2 on a 7x9 map (ceil mode, padding not counted)', yaml: arch('avgdown', { input: ODD, shortcut: 'avgdown', stages: ['{ block: bottleneck, channels: 4, blocks: 1, stride: 2 }'] }) },
      { name: 'stride 3 on a 7x3 map (the last window would start past the data)', yaml: arch('avgdown3', { input: '{ height: 7, width: 3, channels: 2 }', shortcut: 'avgdown', stages: ['{ block: basic, channels: 8, blocks: 1, stride: 3 }'] }) },
    ],
  },
  identity_or_none: {
    // Some blocks add their input (equal shapes), the strided one has no add.
    shows: (g) => !g.nodes.some((n) => n.inserted) && blocksAndAdds(g).adds > 0 && blocksAndAdds(g).adds < blocksAndAdds(g).blocks,
    variants: [{ name: 'the identity where shapes match, no add where they do not', yaml: arch('identity_or_none', { shortcut: 'identity_or_none', stages: TWO_STAGES }) }],
  },
  none: {
    shows: (g) => blocksAndAdds(g).blocks > 0 && blocksAndAdds(g).adds === 0,
    variants: [{ name: 'plain blocks: no shortcut, no add', yaml: arch('none', { shortcut: 'none', stages: TWO_STAGES }) }],
  },
};

/**
 * Per built-in block kind, an architecture built of it (the torch target writes a class per
 * block kind, so each is its own code path there), and user-defined blocks with `pre`, `use` and
 * a `post` activation.
 */
export const BLOCK_CASES: Record<BuiltinBlock | 'user', Variant[]> = {
  basic: [{ name: 'two stages, stride 2', yaml: arch('block_basic', { stages: TWO_STAGES }) }],
  bottleneck: [{ name: 'grouped (ResNeXt), stride 2', yaml: arch('block_bottleneck', { stages: ['{ block: bottleneck, channels: 4, blocks: 2, stride: 2, groups: 2, width_per_group: 32 }'] }) }],
  preact_basic: [{ name: 'stride 2, then BN-ReLU in the head', yaml: arch('block_preact_basic', { stages: ['{ block: preact_basic, channels: 8, blocks: 2, stride: 2 }'], head: ['{ op: bn }', '{ op: relu }'] }) }],
  preact_bottleneck: [{ name: 'stride 1 and 2', yaml: arch('block_preact_bottleneck', { stages: ['{ block: preact_bottleneck, channels: 2, blocks: 1, stride: 1 }', '{ block: preact_bottleneck, channels: 4, blocks: 1, stride: 2 }'], head: ['{ op: bn }', '{ op: relu }'] }) }],
  regnet_x: [{ name: 'group width 4, bottleneck ratio 1', yaml: arch('block_regnet_x', { stages: ['{ block: regnet_x, channels: 8, blocks: 2, stride: 2, group_width: 4 }'] }) }],
  regnet_y: [{ name: 'group width 4, squeeze-excitation 0.25', yaml: arch('block_regnet_y', { stages: ['{ block: regnet_y, channels: 8, blocks: 2, stride: 2, group_width: 4 }'] }) }],
  user: [
    {
      name: 'pre-activation, a `use` macro, expressions and a silu post',
      yaml: arch('block_user', {
        extra: [
          'blocks:',
          '  unit:',
          '    params: { k: 3 }',
          '    layers: [{ op: conv, filters: $channels, kernel: $k }, { op: bn }]',
          '  wide:',
          '    params: { e: 2 }',
          '    pre: [{ op: bn }, { op: relu }]',
          '    layers: [{ op: conv, filters: "$channels * $e", kernel: 3, stride: $stride }, { op: bn }, { op: relu6 }, { op: use, block: unit, params: { k: 1 } }]',
          '    post: silu',
        ],
        stages: ['{ block: wide, channels: 4, blocks: 2, stride: 2, params: { e: 1 } }'],
      }),
    },
    {
      name: "MBConv as efficientnet_b0.yaml writes it: depthwise, SE (silu, squeeze), named layers, flat numbering, identity_or_none, network params, scaling",
      yaml: arch('block_mbconv', {
        shortcut: 'identity_or_none',
        extra: [
          'params: { bn_eps: 1.0e-3 }',
          'scaling: { width: 1.5, depth: 1.0, divisor: 4 }',
          'stage_defaults: { numbering: flat }',
          'blocks:',
          '  mbconv:',
          '    params: { t: 2 }',
          '    layers:',
          '      - { op: conv, name: block.0.0, filters: "make_divisible($in * $t, 4)", kernel: 1 }',
          '      - { op: bn, name: block.0.1, epsilon: $bn_eps }',
          '      - { op: silu, name: block.0.2 }',
          '      - { op: conv, name: block.1.0, filters: "make_divisible($in * $t, 4)", kernel: 3, stride: $stride, groups: "make_divisible($in * $t, 4)" }',
          '      - { op: bn, name: block.1.1, epsilon: $bn_eps }',
          '      - { op: silu, name: block.1.2 }',
          '      - { op: se, name: block.2, squeeze: "max(1, $in // 4)", activation: silu }',
          '      - { op: conv, name: block.3.0, filters: $channels, kernel: 1 }',
          '      - { op: bn, name: block.3.1, epsilon: $bn_eps }',
          '    post: none',
        ],
        stem: ['{ op: conv, name: features.0.0, filters: 8, kernel: 3 }', '{ op: bn, name: features.0.1, epsilon: $bn_eps }', '{ op: silu, name: features.0.2 }'],
        stages: ['{ block: mbconv, name: features, first_index: 1, channels: 8, blocks: 2, stride: 1 }', '{ block: mbconv, name: features, channels: 12, blocks: 2, stride: 2 }'],
      }),
    },
  ],
};
