/**
 * Random valid architectures for property tests (arch_spec.ts says what they are, arch_model.ts
 * what they must compile to). Every written op enters them from the registry: its example
 * (OpDef.example), in stems when it maps a map to a map, in heads otherwise; so a new op is drawn
 * at once. Some ops are also drawn with random attributes (VARIED), which their examples cannot
 * cover. The inserted ops come from the blocks: adds, SE scales, the zeropad rule's subsample and
 * channel_pad, and drop_path from a drawn drop_path_rate.
 */
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { OP_KINDS, OPS, type WrittenOp } from '../../src/compiler/ops.js';
import { expected, stemShape } from './arch_model.js';
import { BUILTIN, outChannels, USER, USER_BLOCKS, type Arch, type BlockName, type Layer, type Post, type Rule, type Stage } from './arch_spec.js';

/** Every written op's example, parsed, with what it takes and gives. */
const EXAMPLES = OP_KINDS.flatMap((op) => {
  const ex = OPS[op].example;
  return 'layer' in ex ? [{ ...ex, parsed: parse(ex.layer) as Layer }] : [];
});
const examples = (takes: 'map' | 'flat', gives: 'map' | 'flat') => EXAMPLES.filter((e) => e.takes === takes && e.gives === gives).map((e) => e.parsed);
/** Layers for any map: stems draw them. */
const MAP_EXAMPLES = examples('map', 'map');
/** A map made flat (global_avg_pool, flatten): a head starts with one. */
const TO_FLAT = examples('map', 'flat');
/** Layers on a flat tensor (dense, dropout): heads draw them before the classifier. */
const FLAT_EXAMPLES = examples('flat', 'flat');

const oddKernel = fc.constantFrom(1, 3, 5, 7);
const act = fc.constantFrom('relu', 'relu6', 'silu', 'tanh', 'sigmoid') as fc.Arbitrary<'relu' | 'relu6' | 'silu' | 'tanh' | 'sigmoid'>;
const layer = (op: WrittenOp, attrs: Record<string, number | boolean> = {}): Layer => ({ op, ...attrs });
const pool = (op: 'maxpool' | 'avgpool') => fc.record({ kernel: fc.constant(3), stride: fc.integer({ min: 1, max: 2 }), padding: fc.constant(1) }).map((a) => layer(op, a));

/** Ops also drawn with random attributes that fit any map of at least 1x1 (odd kernels with default padding, pools with padding). */
const VARIED: fc.Arbitrary<Layer>[] = [
  fc.record({ filters: fc.integer({ min: 1, max: 24 }), kernel: oddKernel, stride: fc.integer({ min: 1, max: 3 }), bias: fc.boolean() }).map((a) => layer('conv', a)),
  pool('maxpool'),
  pool('avgpool'),
  fc.integer({ min: 0, max: 2 }).map((padding) => layer('zeropad', { padding })),
  fc.constantFrom(0, 0.1, 0.5).map((rate) => layer('dropout', { rate })),
];

const baseStemArb: fc.Arbitrary<Layer[]> = fc.oneof(
  fc.constant<Layer[]>([]),
  // CIFAR: conv3x3, bn, activation.
  fc.tuple(fc.integer({ min: 1, max: 32 }), act).map(([f, a]): Layer[] => [layer('conv', { filters: f, kernel: 3, stride: 1 }), layer('bn'), layer(a)]),
  // ImageNet: conv7x7/2 p3, bn, relu, maxpool 3/2 p1.
  fc.integer({ min: 1, max: 32 }).map((f): Layer[] => [layer('conv', { filters: f, kernel: 7, stride: 2, padding: 3 }), layer('bn'), layer('relu'), layer('maxpool', { kernel: 3, stride: 2, padding: 1 })]),
  // Anything goes, within what always fits: the registry's examples for maps and the varied ops.
  fc.array(fc.oneof(fc.constantFrom(...MAP_EXAMPLES), ...VARIED), { minLength: 1, maxLength: 6 }),
);

/**
 * A stem, then most of the registry's examples for maps in any order: each op is in about four
 * architectures of five, so even the ten of a cheap run hold every op.
 */
const stemArb: fc.Arbitrary<Layer[]> = fc
  .tuple(baseStemArb, fc.shuffledSubarray(MAP_EXAMPLES, { minLength: Math.ceil((MAP_EXAMPLES.length * 3) / 4) }))
  .map(([base, examples]) => [...base, ...examples]);

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

/** A map made flat, flat layers from the registry, then the classifier (a dense of $classes or some units). */
const headArb = fc
  .tuple(fc.constantFrom(...TO_FLAT), fc.subarray(FLAT_EXAMPLES, { maxLength: 2 }), fc.boolean(), fc.oneof(fc.constant('$classes'), fc.integer({ min: 1, max: 50 })))
  .map(([flat, between, bias, units]): Layer[] => [flat, ...between, bias ? { op: 'dense', units } : { op: 'dense', units, bias: false }]);

export const archArb: fc.Arbitrary<Arch> = fc
  .record({
    height: fc.integer({ min: 1, max: 64 }),
    width: fc.integer({ min: 1, max: 64 }),
    channels: fc.integer({ min: 1, max: 4 }),
    classes: fc.integer({ min: 1, max: 20 }),
    shortcut: ruleArb,
    dropPath: fc.option(fc.constantFrom(0.1, 0.25), { nil: undefined }),
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
    if (g.dropPath !== undefined) a.drop_path_rate = g.dropPath;
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
