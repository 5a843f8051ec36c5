import { InternalError, type DiagnosticBag, type Loc } from '../parser/index.js';
import type { GraphBuilder } from './builder.js';
import type { Insertion, ShortcutRule } from './types.js';

export interface ShortcutInput {
  rule: ShortcutRule;
  /** Where the rule was chosen (the stage's `shortcut`, `stage_defaults` or the top level). */
  ruleLoc: Loc;
  /** The block's input, and its pre-activated form (the same id for post-activation blocks). */
  x: string;
  xPre: string;
  /** The main path's output. */
  main: string;
  /** `layer2.0.` */
  prefix: string;
  /** Local names of the nodes it may insert (default downsample.0, downsample.1, ...; RegNet: proj.0, proj.1). */
  ids?: readonly string[];
  stride: number;
  preact: boolean;
  stage: string;
  block: number;
  blockLoc: Loc;
}

const fmt = (s: readonly number[]) => s.join('x');

/**
 * Whether a block has a residual add at all: always, except under `none` (a plain block) and
 * under `identity_or_none` where the shapes differ (torchvision's use_res_connect, timm's has_skip:
 * stride 1 and equal channels).
 */
export function hasResidual(rule: ShortcutRule, inShape: readonly number[], outShape: readonly number[]): boolean {
  if (rule === 'none') return false;
  if (rule !== 'identity_or_none') return true;
  return inShape.length === outShape.length && inShape.every((v, i) => v === outShape[i]);
}

/**
 * THE shortcut rule, in one place (timm's make_blocks, torchvision's _make_layer): the shortcut
 * is the identity when the main path's output has the input's shape; otherwise, or always under
 * `conv`, the rule decides what to insert. Returns the shortcut's node id, or undefined after
 * reporting an error.
 *
 * - projection: 1x1 conv with the block's stride + BN (no BN in pre-activation blocks).
 * - conv:       the same projection, even where shapes match.
 * - zeropad:    x[::s, ::s] then zero channels (CIFAR "option A"); no parameters.
 * - avgdown:    2x2 average pool with the stride (ceil mode, padding not counted), then 1x1 conv + BN (ResNet-D).
 * - identity:   never insert; a mismatch is an error that names both shapes.
 */
export function buildShortcut(b: GraphBuilder, s: ShortcutInput, bag: DiagnosticBag): string | undefined {
  const inShape = b.shapeOf(s.x);
  const outShape = b.shapeOf(s.main);
  const same = inShape.length === outShape.length && inShape.every((v, i) => v === outShape[i]);
  if (same && s.rule !== 'conv' && s.rule !== 'none') return s.x;

  const reasons: string[] = [];
  if (s.stride !== 1) reasons.push(`stride ${s.stride}`);
  else if (inShape[0] !== outShape[0] || inShape[1] !== outShape[1]) reasons.push(`size ${inShape[0]}x${inShape[1]} -> ${outShape[0]}x${outShape[1]}`);
  if (inShape[2] !== outShape[2]) reasons.push(`channels ${inShape[2]} -> ${outShape[2]}`);
  if (reasons.length === 0) reasons.push('the conv rule always projects');
  const inserted: Insertion = { rule: s.rule, reason: reasons.join(', '), blockLoc: s.blockLoc };
  const meta = { loc: s.blockLoc, inserted, path: 'shortcut' as const, stage: s.stage, block: s.block };
  const id = (n: number) => `${s.prefix}${s.ids?.[n] ?? `downsample.${n}`}`;
  const outC = outShape[2];
  const st: [number, number] = [s.stride, s.stride];

  switch (s.rule) {
    case 'none':
    case 'identity_or_none':
      // The caller asks hasResidual() first and adds nothing for these: reaching here is a bug.
      throw new InternalError(`buildShortcut called for ${s.prefix}, whose rule ${s.rule} adds no shortcut`);
    case 'identity':
      bag.add({
        code: 'shortcut-mismatch',
        severity: 'error',
        message: `Block ${s.prefix.slice(0, -1)} adds its main path (${fmt(outShape)}) to an identity shortcut (${fmt(inShape)}): ${inserted.reason}.`,
        loc: s.blockLoc,
        hint: 'Use shortcut: projection (1x1 conv + BN, as torchvision), zeropad (no parameters) or avgdown (ResNet-D) for this stage.',
        related: [{ message: 'the identity rule is chosen here', loc: s.ruleLoc }],
      });
      return undefined;
    case 'projection':
    case 'conv': {
      const src = s.preact ? s.xPre : s.x;
      const c = b.add({ ...meta, id: id(0), op: 'conv', inputs: [src], attrs: { filters: outC, kernel: [1, 1], stride: st, padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, bias: false } });
      if (!c || s.preact) return c;
      return b.add({ ...meta, id: id(1), op: 'bn', inputs: [c], attrs: { epsilon: 1e-5, momentum: 0.1 } });
    }
    case 'zeropad': {
      let cur: string | undefined = s.x;
      if (s.stride !== 1) cur = b.add({ ...meta, id: id(0), op: 'subsample', inputs: [cur], attrs: { stride: st } });
      if (!cur) return undefined;
      const extra = outC - inShape[2];
      if (extra < 0) {
        bag.error('shape-mismatch', `Block ${s.prefix.slice(0, -1)}: zeropad can only add channels, but the main path goes from ${inShape[2]} to ${outC}.`, s.blockLoc, 'Use shortcut: projection for this stage.');
        return undefined;
      }
      if (extra > 0) {
        const before = Math.floor(extra / 2);
        cur = b.add({ ...meta, id: id(1), op: 'channel_pad', inputs: [cur], attrs: { before, after: extra - before } });
      }
      return cur;
    }
    case 'avgdown': {
      const src = s.preact ? s.xPre : s.x;
      let cur: string | undefined = src;
      // timm's downsample_avg: AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False).
      if (s.stride !== 1) cur = b.add({ ...meta, id: id(0), op: 'avgpool', inputs: [src], attrs: { kernel: [2, 2], stride: st, padding: [0, 0, 0, 0], ceil: true } });
      if (!cur) return undefined;
      const c = b.add({ ...meta, id: id(1), op: 'conv', inputs: [cur], attrs: { filters: outC, kernel: [1, 1], stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, bias: false } });
      if (!c || s.preact) return c;
      return b.add({ ...meta, id: id(2), op: 'bn', inputs: [c], attrs: { epsilon: 1e-5, momentum: 0.1 } });
    }
    default:
      return unknownRule(s.rule);
  }
}

/** The end of the switch over rules: a new rule that has no case is a tsc error here. */
function unknownRule(rule: never): never {
  throw new InternalError(`the shortcut rule '${String(rule)}' has no case in buildShortcut`);
}
