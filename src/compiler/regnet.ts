import { makeDivisible, type ArchitectureAst, type DiagnosticBag, type Loc, type RegNetAst, type RegNetNames, type StageAst } from '../parser/index.js';
import type { BlockContext, BlockPlan } from './blocks.js';
import type { PlannedLayer } from './layers.js';

/**
 * RegNet/AnyNet (Radosavovic et al. 2020, "Designing Network Design Spaces"): a stage list
 * generated from six numbers, and the X/Y residual bottleneck block. Two roundings exist:
 * pycls's (the paper's code, widths made compatible by lcm rounding) and torchvision's
 * (_make_divisible, computed in float32), which give different networks for the same numbers.
 */

/** Python's round(): halves go to the even neighbour (numpy and torch round the same way). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number) => (a / gcd(a, b)) * b;

// torchvision's _make_divisible lives with the expressions, which offer it as make_divisible().
export { makeDivisible };

export interface RegNetStage {
  /** Output channels of every block of the stage. */
  width: number;
  depth: number;
  /** Channels per group of the 3x3 conv, after the compatibility adjustment. */
  groupWidth: number;
}

/** Per-block widths before quantisation: w0 + wa * i, snapped to w0 * wm^k (pycls generate_regnet). */
function blockWidths(d: RegNetAst): number[] {
  const widths: number[] = [];
  if (d.rounding === 'pycls') {
    for (let i = 0; i < d.depth; i++) {
      const cont = i * d.wa + d.w0;
      const k = roundHalfEven(Math.log(cont / d.w0) / Math.log(d.wm));
      widths.push(roundHalfEven((d.w0 * d.wm ** k) / d.quantum) * d.quantum);
    }
    return widths;
  }
  // torchvision's BlockParams.from_init_params computes in float32 tensors.
  const f = Math.fround;
  const logWm = f(Math.log(d.wm));
  for (let i = 0; i < d.depth; i++) {
    const cont = f(f(f(i) * f(d.wa)) + f(d.w0));
    const k = roundHalfEven(f(f(Math.log(f(cont / f(d.w0)))) / logWm));
    widths.push(roundHalfEven(f(f(f(d.w0) * f(f(d.wm) ** k)) / d.quantum)) * d.quantum);
  }
  return widths;
}

/** The stages of a design: runs of equal block widths, each width made compatible with its group width. */
export function regnetStages(d: RegNetAst): RegNetStage[] {
  const stages: RegNetStage[] = [];
  for (const w of blockWidths(d)) {
    const last = stages[stages.length - 1];
    if (last && last.width === w) last.depth += 1;
    else stages.push({ width: w, depth: 1, groupWidth: d.groupWidth });
  }
  const b = d.bottleneckRatio;
  for (const s of stages) {
    if (d.rounding === 'pycls') {
      // pycls adjust_block_compatibility.
      let v = Math.trunc(Math.max(1, s.width * b));
      const g = Math.trunc(Math.min(s.groupWidth, v));
      const m = b > 1 && Number.isInteger(b) ? lcm(g, b) : g;
      v = Math.max(m, Math.trunc(roundHalfEven(v / m) * m));
      s.width = Math.trunc(v / b);
      s.groupWidth = g;
    } else {
      // torchvision _adjust_widths_groups_compatibilty.
      const wBot = Math.trunc(s.width * b);
      const g = Math.min(s.groupWidth, wBot);
      s.width = Math.trunc(makeDivisible(wBot, g) / b);
      s.groupWidth = g;
    }
  }
  return stages;
}

/** Stage names of generated stages: torchvision's trunk_output.block1, pycls's s1. */
function stageNameOf(names: RegNetNames, k: number): string {
  return names === 'torchvision' ? `trunk_output.block${k}` : `s${k}`;
}

/** A block's node prefix: `<stage>.<index>.`, or the RegNet family's own names. */
export function blockPrefix(stageName: string, stage: StageAst, index: number): string {
  if (stage.naming === 'torchvision') return `${stageName}.${stageName.split('.').pop()}-${index}.`;
  if (stage.naming === 'pycls') return `${stageName}.b${index + 1}.`;
  return `${stageName}.${index}.`;
}

/**
 * Replaces each `{ regnet: ... }` item with the stages it generates (and renumbers the stages).
 * A design that generates nothing usable is reported at its line.
 */
export function expandDesigns(ast: ArchitectureAst, bag: DiagnosticBag): ArchitectureAst {
  if (!ast.stages.some((s) => s.design)) return ast;
  const stages: StageAst[] = [];
  let k = 0; // generated stages count from 1 per design family, as pycls and torchvision do
  for (const s of ast.stages) {
    const d = s.design;
    if (!d) {
      stages.push({ ...s, index: stages.length });
      continue;
    }
    const generated = regnetStages(d);
    const at = (key: string): Loc => d.fieldLocs[key] ?? d.loc;
    if (generated.some((g) => g.width < 1 || g.groupWidth < 1)) {
      bag.error('invalid-value', `This RegNet design gives a stage of width ${generated.reduce((m, g) => Math.min(m, g.width), Infinity)}.`, at('w0'), 'Raise w0 or wa.');
      continue;
    }
    for (const g of generated) {
      k += 1;
      stages.push({
        index: stages.length,
        name: stageNameOf(d.names, k),
        block: d.seRatio > 0 ? 'regnet_y' : 'regnet_x',
        channels: g.width,
        blocks: g.depth,
        stride: d.stride,
        groups: 1,
        widthPerGroup: 64,
        dilation: 1,
        firstDilation: 1,
        numbering: 'nested',
        shortcut: s.shortcut,
        se: d.seRatio > 0 ? { reduction: 16, ratio: d.seRatio, of: 'input', loc: at('se_ratio') } : null,
        params: {},
        groupWidth: g.groupWidth,
        bottleneckRatio: d.bottleneckRatio,
        naming: d.names,
        loc: d.loc,
        fieldLocs: { ...d.fieldLocs, channels: at('w0'), blocks: at('depth'), stride: at('stride'), shortcut: at('shortcut'), se: at('se_ratio'), group_width: at('group_width') },
      });
    }
  }
  return { ...ast, stages };
}

/** Local names of a RegNet block's layers, per family. */
const LOCALS: Record<RegNetNames, Record<string, string>> = {
  torchvision: { a: 'f.a.0', a_bn: 'f.a.1', a_af: 'f.a.2', b: 'f.b.0', b_bn: 'f.b.1', b_af: 'f.b.2', se: 'f.se', c: 'f.c.0', c_bn: 'f.c.1', af: 'activation', proj: 'proj.0', proj_bn: 'proj.1' },
  pycls: { a: 'f.a', a_bn: 'f.a_bn', a_af: 'f.a_af', b: 'f.b', b_bn: 'f.b_bn', b_af: 'f.b_af', se: 'f.se', c: 'f.c', c_bn: 'f.c_bn', af: 'af', proj: 'proj', proj_bn: 'bn' },
};

/** pycls names its SE layers f_ex.0 .. f_ex.3 (torchvision: fc1, fc2, as skipgraph). */
const SE_NAMES: Record<RegNetNames, Record<string, string> | undefined> = {
  torchvision: undefined,
  pycls: { pool: 'avg_pool', fc1: 'f_ex.0', relu: 'f_ex.1', fc2: 'f_ex.2', gate: 'f_ex.3' },
};

/**
 * RegNet's residual bottleneck block (pycls ResBottleneckBlock, torchvision's the same):
 * 1x1 to w_b = round(w_out * bottleneck_ratio), 3x3 with the stride and w_b // group_width
 * groups, [SE], 1x1 to w_out; the projection (1x1 with the stride + BN) where shapes change.
 * regnet_y has SE with a squeeze width of round(0.25 * the block's input width) by default.
 */
export function planRegNet(kind: 'regnet_x' | 'regnet_y', ctx: BlockContext, bag: DiagnosticBag): BlockPlan | undefined {
  const s = ctx.stage;
  const loc = s.loc;
  const names = LOCALS[s.naming ?? 'torchvision'];
  const stride = ctx.index === 0 ? s.stride : 1;
  if (s.groupWidth < 1) {
    bag.error('invalid-value', `"${kind}" blocks need group_width (channels per group of the 3x3 conv).`, loc, 'Add group_width: 8 (RegNetX-200MF) or generate the stages with { regnet: ... }.');
    return undefined;
  }
  const wb = roundHalfEven(s.channels * s.bottleneckRatio);
  if (wb < 1 || wb % s.groupWidth !== 0) {
    bag.error('invalid-value', `The bottleneck width round(${s.channels} * ${s.bottleneckRatio}) = ${wb} is not a multiple of group_width ${s.groupWidth}.`, s.fieldLocs.group_width ?? loc, 'Choose channels and group_width so that one divides the other, or let { regnet: ... } adjust them.');
    return undefined;
  }
  const conv = (local: string, filters: number, k: number, st: number, groups: number): PlannedLayer => {
    const p = Math.floor((k - 1) / 2);
    return { local, op: 'conv', attrs: { filters, kernel: [k, k], stride: [st, st], padding: [p, p, p, p], dilation: [1, 1], groups, bias: false }, loc };
  };
  const bn = (local: string, last = false): PlannedLayer => ({ local, op: 'bn', attrs: { epsilon: 1e-5, momentum: 0.1, ...(last ? { blockLast: true } : {}) }, loc });
  const relu = (local: string): PlannedLayer => ({ local, op: 'relu', attrs: {}, loc });
  const se = s.se ?? (kind === 'regnet_y' ? { reduction: 16, ratio: 0.25, of: 'input' as const, loc } : null);
  const seLayers: PlannedLayer[] = se ? [{ local: names.se, op: 'se', attrs: { ...seWidth(se, ctx), ...(SE_NAMES[s.naming ?? 'torchvision'] ? { names: SE_NAMES[s.naming ?? 'torchvision'] } : {}) }, loc: se.loc }] : [];
  return {
    pre: [],
    main: [
      conv(names.a, wb, 1, 1, 1),
      bn(names.a_bn),
      relu(names.a_af),
      conv(names.b, wb, 3, stride, wb / s.groupWidth),
      bn(names.b_bn),
      relu(names.b_af),
      ...seLayers,
      conv(names.c, s.channels, 1, 1, 1),
      bn(names.c_bn, true),
    ],
    post: relu(names.af),
    stride,
    preact: false,
    shortcutIds: [names.proj, names.proj_bn],
  };
}

/**
 * The attrs of an `se` layer: `squeeze` (a fixed width, from `ratio` of the block's input) or
 * `reduction` (the SE input's width // reduction, computed when the shape is known).
 */
export function seWidth(se: NonNullable<StageAst['se']>, ctx: Pick<BlockContext, 'inChannels'>): { squeeze: number } | { reduction: number; ratio?: number } {
  if (se.ratio !== undefined && se.of === 'input') return { squeeze: Math.max(1, roundHalfEven(se.ratio * ctx.inChannels)) };
  if (se.ratio !== undefined) return { reduction: se.reduction, ratio: se.ratio };
  return { reduction: se.reduction };
}
