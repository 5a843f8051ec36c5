/**
 * Random valid architectures for property tests, and an independent model of what they must
 * compile to. Nothing here calls the compiler's shape or count code: the formulas below are
 * written again from PyTorch's documentation (Conv2d/MaxPool2d output size, parameter counts)
 * and torchvision's ResNet (BasicBlock, Bottleneck, downsample), so a bug in one is not hidden by
 * the same bug in the other.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { OP_KINDS, OPS, type WrittenOp } from '../../src/compiler/ops.js';

/** How many runs a property makes: FUZZ_RUNS overrides every default (CI keeps the defaults). */
export function runs(dflt: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : dflt;
}

/** FUZZ_SEED picks the seed; the default is fixed, so CI explores the same cases every time. */
export const SEED = Number.isInteger(Number(process.env.FUZZ_SEED)) && process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261128;

export type Rule = 'projection' | 'zeropad' | 'conv' | 'avgdown';
export type Post = 'relu' | 'relu6' | 'silu' | 'tanh' | 'sigmoid' | 'none';
export const BUILTIN = ['basic', 'bottleneck', 'preact_basic', 'preact_bottleneck'] as const;
export const USER = ['plain', 'bottle'] as const;
type BlockName = (typeof BUILTIN)[number] | (typeof USER)[number];

export type StemLayer =
  | { op: 'conv'; filters: number; kernel: number; stride: number; padding?: number; bias?: boolean }
  | { op: 'bn' }
  | { op: 'layernorm' }
  | { op: 'layer_scale' }
  | { op: 'relu' | 'relu6' | 'silu' | 'tanh' | 'sigmoid' | 'hardswish' | 'hardsigmoid' | 'gelu' }
  | { op: 'maxpool' | 'avgpool'; kernel: number; stride: number; padding: number }
  | { op: 'zeropad'; padding: number }
  | { op: 'dropout'; rate: number };

export interface Stage {
  block: BlockName;
  channels: number;
  blocks: number;
  stride: number;
  groups?: number;
  width_per_group?: number;
  dilation?: number;
  first_dilation?: number;
  shortcut?: Rule;
  se?: boolean | { reduction: number };
  params?: Record<string, number>;
}

export interface Arch {
  name: string;
  input: { height: number; width: number; channels: number };
  classes: number;
  shortcut: Rule;
  stage_defaults?: { se?: boolean | { reduction: number } };
  stem: StemLayer[];
  stages: Stage[];
  head: Array<{ op: 'global_avg_pool' } | { op: 'flatten' } | { op: 'dropout'; rate: number } | { op: 'dense'; units: number | string; bias?: boolean }>;
  blocks?: Record<string, unknown>;
}

/** The user blocks every generated file may use: a `use` macro, expressions, params, se, posts. */
export const USER_BLOCKS = (post: Post) => ({
  unit: {
    params: { k: 3 },
    layers: [{ op: 'conv', filters: '$channels', kernel: '$k' }, { op: 'bn' }],
  },
  plain: {
    post,
    params: { k: 3 },
    layers: [{ op: 'conv', filters: '$channels', kernel: 3, stride: '$stride' }, { op: 'bn' }, { op: 'relu' }, { op: 'use', block: 'unit', params: { k: 1 } }, { op: 'use', block: 'unit' }],
  },
  bottle: {
    post: 'relu6',
    params: { r: 2, e: 2 },
    layers: [
      { op: 'conv', filters: 'max(1, $channels // $r)', kernel: 1 },
      { op: 'bn' },
      { op: 'relu6' },
      { op: 'conv', filters: 'max(1, $channels // $r)', kernel: 3, stride: '$stride' },
      { op: 'bn' },
      { op: 'silu' },
      { op: 'conv', filters: '$channels * $e', kernel: 1 },
      { op: 'bn' },
      { op: 'se', reduction: 4 },
    ],
  },
});

const oddKernel = fc.constantFrom(1, 3, 5, 7);
const act = fc.constantFrom('relu', 'relu6', 'silu', 'tanh', 'sigmoid') as fc.Arbitrary<'relu' | 'relu6' | 'silu' | 'tanh' | 'sigmoid'>;

/** The state the independent model walks through the stem: the map, and the counts so far. */
interface StemModel {
  h: number;
  w: number;
  c: number;
  conv(cin: number, cout: number, k: number, ho: number, wo: number, groups?: number, bias?: boolean): void;
  bn(c: number): void;
  /** A per-channel gain and bias (layernorm): 2c trainable, no statistics. */
  affine(c: number): void;
  /** A per-channel gain (layer_scale): c trainable. */
  gain(c: number): void;
}

/** How random stems write one op, and what it does to the map and the counts (by hand, from PyTorch's docs). */
interface StemOp<L extends StemLayer> {
  /** Layers of the op that fit any map of at least 1x1 (odd kernels with default padding, pools with padding). */
  arb: fc.Arbitrary<L>;
  apply(l: L, m: StemModel): void;
}

/** One entry of the table below (its `apply` takes only its own layers: the table keys it by op). */
const stemOp = <L extends StemLayer>(op: StemOp<L>): StemOp<StemLayer> => op as unknown as StemOp<StemLayer>;
const keeps = (op: 'relu' | 'relu6' | 'silu' | 'tanh' | 'sigmoid' | 'hardswish' | 'hardsigmoid' | 'gelu') => stemOp({ arb: fc.constant({ op }), apply: () => {} });
const pool = (op: 'maxpool' | 'avgpool') =>
  stemOp<{ op: typeof op; kernel: number; stride: number; padding: number }>({
    arb: fc.record({ op: fc.constant(op), kernel: fc.constant(3), stride: fc.integer({ min: 1, max: 2 }), padding: fc.constant(1) }),
    apply: (l, m) => {
      [m.h, m.w] = [out(m.h, l.kernel, l.stride, l.padding), out(m.w, l.kernel, l.stride, l.padding)];
    },
  });

/**
 * Every op a file may write (the registry's written ops), as random stems use it; 'head' for the
 * ops that need a flat input or make one (the head generator writes those). One entry per op, so
 * a new op is a tsc error here, and with its entry it enters random architectures at once.
 */
const STEM_OPS: { readonly [K in WrittenOp]: StemOp<StemLayer> | 'head' } = {
  conv: stemOp<Extract<StemLayer, { op: 'conv' }>>({
    arb: fc.record({ op: fc.constant('conv' as const), filters: fc.integer({ min: 1, max: 24 }), kernel: oddKernel, stride: fc.integer({ min: 1, max: 3 }), bias: fc.boolean() }),
    apply: (l, m) => {
      const p = l.padding ?? Math.floor((l.kernel - 1) / 2);
      const [ho, wo] = [out(m.h, l.kernel, l.stride, p), out(m.w, l.kernel, l.stride, p)];
      m.conv(m.c, l.filters, l.kernel, ho, wo, 1, l.bias ?? false);
      [m.h, m.w, m.c] = [ho, wo, l.filters];
    },
  }),
  bn: stemOp({ arb: fc.constant({ op: 'bn' as const }), apply: (_, m) => m.bn(m.c) }),
  layernorm: stemOp({ arb: fc.constant({ op: 'layernorm' as const }), apply: (_, m) => m.affine(m.c) }),
  layer_scale: stemOp({ arb: fc.constant({ op: 'layer_scale' as const }), apply: (_, m) => m.gain(m.c) }),
  relu: keeps('relu'),
  relu6: keeps('relu6'),
  sigmoid: keeps('sigmoid'),
  silu: keeps('silu'),
  tanh: keeps('tanh'),
  hardswish: keeps('hardswish'),
  hardsigmoid: keeps('hardsigmoid'),
  gelu: keeps('gelu'),
  maxpool: pool('maxpool'),
  avgpool: pool('avgpool'),
  zeropad: stemOp<{ op: 'zeropad'; padding: number }>({
    arb: fc.record({ op: fc.constant('zeropad' as const), padding: fc.integer({ min: 0, max: 2 }) }),
    apply: (l, m) => {
      [m.h, m.w] = [m.h + 2 * l.padding, m.w + 2 * l.padding];
    },
  }),
  dropout: stemOp({ arb: fc.record({ op: fc.constant('dropout' as const), rate: fc.constantFrom(0, 0.1, 0.5) }), apply: () => {} }),
  global_avg_pool: 'head',
  flatten: 'head',
  dense: 'head',
};

/** The registry's written ops that random stems draw from. */
const STEM_DRAWN = OP_KINDS.filter((op): op is WrittenOp => OPS[op].plan !== null).map((op) => STEM_OPS[op]).filter((g): g is StemOp<StemLayer> => g !== 'head');

/** The stem's layers through the independent model (every stem op's `apply`). */
function walkStem(a: Arch, m: StemModel): void {
  for (const l of a.stem) {
    const g = STEM_OPS[l.op];
    if (g === 'head') throw new Error(`a stem holds the head op ${l.op}`);
    g.apply(l, m);
  }
}

const stemArb: fc.Arbitrary<StemLayer[]> = fc.oneof(
  fc.constant<StemLayer[]>([]),
  // CIFAR: conv3x3, bn, activation.
  fc.tuple(fc.integer({ min: 1, max: 32 }), act).map(([f, a]): StemLayer[] => [{ op: 'conv', filters: f, kernel: 3, stride: 1 }, { op: 'bn' }, { op: a }]),
  // ImageNet: conv7x7/2 p3, bn, relu, maxpool 3/2 p1.
  fc.integer({ min: 1, max: 32 }).map((f): StemLayer[] => [{ op: 'conv', filters: f, kernel: 7, stride: 2, padding: 3 }, { op: 'bn' }, { op: 'relu' }, { op: 'maxpool', kernel: 3, stride: 2, padding: 1 }]),
  // Anything goes, within what always fits: odd kernels with default padding, pools with padding.
  fc.array(fc.oneof(...STEM_DRAWN.map((g) => g.arb)), { minLength: 1, maxLength: 6 }),
);

const seArb = fc.oneof(fc.constant(undefined), fc.boolean(), fc.record({ reduction: fc.integer({ min: 1, max: 32 }) }));
const ruleArb = fc.constantFrom<Rule>('projection', 'zeropad', 'conv', 'avgdown');

const stageArb: fc.Arbitrary<Stage> = fc
  .record({
    block: fc.constantFrom<BlockName>(...BUILTIN, ...USER),
    channels: fc.integer({ min: 1, max: 48 }),
    blocks: fc.integer({ min: 1, max: 3 }),
    stride: fc.constantFrom(1, 1, 2, 3),
    groups: fc.constantFrom(1, 2, 4, 8),
    wpg: fc.constantFrom(4, 8, 16, 64, 128),
    dilation: fc.constantFrom(1, 1, 2),
    shortcut: fc.option(ruleArb, { nil: undefined }),
    se: seArb,
    r: fc.integer({ min: 1, max: 4 }),
    e: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ block, channels, blocks, stride, groups, wpg, dilation, shortcut, se, r, e }) => {
    const s: Stage = { block, channels, blocks, stride };
    if (block === 'bottleneck' || block === 'preact_bottleneck') {
      if (groups !== 1) s.groups = groups;
      // torchvision's width int(channels * wpg / 64) * groups must be at least 1.
      if (wpg !== 64 && Math.floor((channels * wpg) / 64) >= 1) s.width_per_group = wpg;
    }
    // A conv cannot combine stride and dilation (the compiler refuses it), so only stride-1 stages dilate.
    if (dilation !== 1 && stride === 1 && (BUILTIN as readonly string[]).includes(block)) s.dilation = dilation;
    if (shortcut) s.shortcut = shortcut;
    if (se !== undefined) s.se = se;
    if (block === 'bottle') s.params = { r, e };
    return s;
  });

const headArb = fc.tuple(fc.constantFrom('gap', 'gap-dropout', 'flatten'), fc.boolean(), fc.oneof(fc.constant('$classes'), fc.integer({ min: 1, max: 50 }))).map(([kind, bias, units]) => {
  const dense = bias ? { op: 'dense' as const, units } : { op: 'dense' as const, units, bias: false };
  if (kind === 'flatten') return [{ op: 'flatten' as const }, dense];
  if (kind === 'gap-dropout') return [{ op: 'global_avg_pool' as const }, { op: 'dropout' as const, rate: 0.2 }, dense];
  return [{ op: 'global_avg_pool' as const }, dense];
});

export const archArb: fc.Arbitrary<Arch> = fc
  .record({
    height: fc.integer({ min: 1, max: 64 }),
    width: fc.integer({ min: 1, max: 64 }),
    channels: fc.integer({ min: 1, max: 4 }),
    classes: fc.integer({ min: 1, max: 20 }),
    shortcut: ruleArb,
    defaultsSe: seArb,
    stem: stemArb,
    stages: fc.array(stageArb, { minLength: 1, maxLength: 4 }),
    head: headArb,
    post: fc.constantFrom<Post>('relu', 'relu6', 'silu', 'tanh', 'sigmoid', 'none'),
  })
  .map((g) => {
    const a: Arch = {
      name: 'generated',
      input: { height: g.height, width: g.width, channels: g.channels },
      classes: g.classes,
      shortcut: g.shortcut,
      stem: g.stem,
      stages: g.stages,
      head: g.head,
    };
    if (g.defaultsSe !== undefined) a.stage_defaults = { se: g.defaultsSe };
    // Block 0 of a stage takes the previous stage's dilation (first_dilation's default, as
    // torchvision and timm); a strided stage after a dilated one must say first_dilation: 1,
    // since no conv combines stride and dilation (the compiler refuses it at the stage).
    g.stages.forEach((s, i) => {
      const prev = i > 0 ? (g.stages[i - 1].dilation ?? 1) : 1;
      if (prev > 1 && s.stride > 1 && (BUILTIN as readonly string[]).includes(s.block)) s.first_dilation = 1;
    });
    if (g.stages.some((s) => (USER as readonly string[]).includes(s.block))) a.blocks = USER_BLOCKS(g.post);
    return normalise(a);
  });

/**
 * Makes a generated description valid: zeropad shortcuts only where channels do not shrink, and
 * flatten heads only on small maps (a flatten of a big map makes a dense layer of millions).
 */
function normalise(a: Arch): Arch {
  let c = stemShape(a).c;
  for (const s of a.stages) {
    const out = outChannels(s);
    const rule = s.shortcut ?? a.shortcut;
    if (rule === 'zeropad' && out < c) s.shortcut = 'projection';
    c = out;
  }
  const m = expected(a);
  if (a.head[0].op === 'flatten' && m.preHead[0] * m.preHead[1] * m.preHead[2] > 4096) a.head[0] = { op: 'global_avg_pool' };
  return a;
}

export const toYaml = (a: Arch): string => stringify(a);

// ---- the independent model ---------------------------------------------------------------------

/** PyTorch Conv2d / MaxPool2d output size (floor mode). */
const out = (size: number, k: number, s: number, p: number, d = 1) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

export function outChannels(s: Stage): number {
  if (s.block === 'basic' || s.block === 'preact_basic' || s.block === 'plain') return s.channels;
  if (s.block === 'bottle') return s.channels * (s.params?.e ?? 2);
  return s.channels * 4;
}

function stemShape(a: Arch) {
  const m: StemModel = { h: a.input.height, w: a.input.width, c: a.input.channels, conv: () => {}, bn: () => {}, affine: () => {}, gain: () => {} };
  walkStem(a, m);
  return { h: m.h, w: m.w, c: m.c };
}

export interface Expected {
  trainable: number;
  nonTrainable: number;
  macs: number;
  /** Shape entering the head. */
  preHead: [number, number, number];
  output: number[];
  /** Nodes a shortcut rule inserts. */
  inserted: number;
  adds: number;
}

/**
 * What torchvision would build for this description, counted by hand: conv weights
 * k*k*(cin/groups)*cout (+cout bias), BN 2c trainable + 2c running stats, dense in*out (+out);
 * MACs = weights x output positions for convs, in*out for dense. Exact for built-in blocks; for
 * user blocks, also by hand from the templates above.
 */
export function expected(a: Arch): Expected {
  let trainable = 0;
  let nonTrainable = 0;
  let macs = 0;
  let inserted = 0;
  let adds = 0;
  const conv = (cin: number, cout: number, k: number, ho: number, wo: number, groups = 1, bias = false) => {
    const weights = k * k * (cin / groups) * cout;
    trainable += weights + (bias ? cout : 0);
    macs += weights * ho * wo;
  };
  const bn = (c: number) => {
    trainable += 2 * c;
    nonTrainable += 2 * c;
  };
  const affine = (c: number) => {
    trainable += 2 * c;
  };
  const gain = (c: number) => {
    trainable += c;
  };
  const se = (c: number, r: number) => {
    const rd = Math.max(1, Math.floor(c / r));
    conv(c, rd, 1, 1, 1, 1, true);
    conv(rd, c, 1, 1, 1, 1, true);
  };

  const stem: StemModel = { h: a.input.height, w: a.input.width, c: a.input.channels, conv, bn, affine, gain };
  walkStem(a, stem);
  let { h, w, c } = stem;

  const defaultsSe = a.stage_defaults?.se;
  for (const s of a.stages) {
    const seOpt = s.se !== undefined ? s.se : defaultsSe;
    const reduction = seOpt === true ? 16 : seOpt && typeof seOpt === 'object' ? seOpt.reduction : 0;
    const rule = s.shortcut ?? a.shortcut;
    const cout = outChannels(s);
    const g = s.groups ?? 1;
    for (let i = 0; i < s.blocks; i++) {
      const stride = i === 0 ? s.stride : 1;
      // Every 3x3 conv here pads by its dilation, so the size is ceil(size / stride).
      const [ho, wo] = [Math.ceil(h / stride), Math.ceil(w / stride)];
      const preact = s.block.startsWith('preact');
      if (preact) bn(c);
      switch (s.block) {
        case 'basic':
          conv(c, cout, 3, ho, wo), bn(cout), conv(cout, cout, 3, ho, wo), bn(cout);
          break;
        case 'preact_basic':
          conv(c, cout, 3, ho, wo), bn(cout), conv(cout, cout, 3, ho, wo);
          break;
        case 'bottleneck':
        case 'preact_bottleneck': {
          const width = Math.floor((s.channels * (s.width_per_group ?? 64)) / 64) * g;
          conv(c, width, 1, h, w), bn(width), conv(width, width, 3, ho, wo, g), bn(width), conv(width, cout, 1, ho, wo);
          if (s.block === 'bottleneck') bn(cout);
          break;
        }
        case 'plain':
          // conv3x3/stride, bn, relu, unit(k=1) = conv1x1 + bn, unit(k=3) = conv3x3 + bn.
          conv(c, s.channels, 3, ho, wo), bn(s.channels), conv(s.channels, s.channels, 1, ho, wo), bn(s.channels), conv(s.channels, s.channels, 3, ho, wo), bn(s.channels);
          break;
        case 'bottle': {
          const mid = Math.max(1, Math.floor(s.channels / (s.params?.r ?? 2)));
          conv(c, mid, 1, h, w), bn(mid), conv(mid, mid, 3, ho, wo), bn(mid), conv(mid, cout, 1, ho, wo), bn(cout), se(cout, 4);
          break;
        }
      }
      if (reduction) se(cout, reduction);
      const same = ho === h && wo === w && cout === c;
      if (!same || rule === 'conv') {
        if (rule === 'projection' || rule === 'conv') {
          conv(c, cout, 1, ho, wo);
          if (!preact) bn(cout);
          inserted += preact ? 1 : 2;
        } else if (rule === 'avgdown') {
          conv(c, cout, 1, ho, wo);
          if (!preact) bn(cout);
          inserted += (stride !== 1 ? 1 : 0) + (preact ? 1 : 2);
        } else {
          inserted += (stride !== 1 ? 1 : 0) + (cout > c ? 1 : 0);
        }
      }
      adds++;
      [h, w, c] = [ho, wo, cout];
    }
  }

  const preHead: [number, number, number] = [h, w, c];
  let features = 0;
  let output: number[] = [h, w, c];
  for (const l of a.head) {
    if (l.op === 'global_avg_pool') features = c;
    else if (l.op === 'flatten') features = h * w * c;
    else if (l.op === 'dense') {
      const units = l.units === '$classes' ? a.classes : (l.units as number);
      trainable += features * units + (l.bias === false ? 0 : units);
      macs += features * units;
      features = units;
    }
    output = [features];
  }
  return { trainable, nonTrainable, macs, preHead, output, inserted, adds };
}
