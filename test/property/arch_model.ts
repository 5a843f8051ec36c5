/**
 * The independent model of what a random architecture (arch_spec.ts) must compile to. Nothing
 * here calls the compiler's shape or count code for the ops it has formulas for: those are
 * written again from PyTorch's documentation (Conv2d/MaxPool2d output size, parameter counts) and
 * torchvision's ResNet (BasicBlock, Bottleneck, downsample), so a bug in one is not hidden by the
 * same bug in the other. An activation (the registry says which) keeps its input's shape and has
 * no parameters. An op the generator draws from the registry with no formula here is counted by
 * its own definition (not independent for that op; the cross-target tests check its counts
 * against PyTorch's module); BY_REGISTRY lists those ops.
 */
import { OP_KINDS, OPS, WRITTEN_OPS, isActivation, type LayerArgs, type OpDef, type WrittenOp } from '../../src/compiler/ops.js';
import { outChannels, type Arch, type Layer } from './arch_spec.js';

/** PyTorch Conv2d / MaxPool2d output size (floor mode). */
const out = (size: number, k: number, s: number, p: number, d = 1) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

/** Where a layer's counts go. */
interface Counter {
  conv(cin: number, cout: number, k: number, ho: number, wo: number, groups?: number, bias?: boolean): void;
  bn(c: number): void;
  trainable(n: number): void;
  nonTrainable(n: number): void;
  macs(n: number): void;
}

/** A layer's output shape from its input's, counting as it goes; `classes` for `$classes`. */
type Formula = (l: Layer, x: number[], k: Counter, classes: number) => number[];

const num = (l: Layer, key: string, dflt: number): number => (typeof l[key] === 'number' ? (l[key] as number) : dflt);
const pool: Formula = (l, [h, w, c]) => {
  const kernel = num(l, 'kernel', 1);
  const [s, p] = [num(l, 'stride', kernel), num(l, 'padding', 0)];
  return [out(h, kernel, s, p), out(w, kernel, s, p), c];
};

/** By hand, per op: what random files write (square kernels, symmetric padding but zeropad's). */
const FORMULAS: { readonly [K in WrittenOp]?: Formula } = {
  conv: (l, [h, w, c], k) => {
    const kernel = num(l, 'kernel', 1);
    const [s, p] = [num(l, 'stride', 1), num(l, 'padding', Math.floor((kernel - 1) / 2))];
    const [ho, wo, f] = [out(h, kernel, s, p), out(w, kernel, s, p), num(l, 'filters', 0)];
    k.conv(c, f, kernel, ho, wo, 1, l.bias === true);
    return [ho, wo, f];
  },
  bn: (_, x, k) => (k.bn(x[x.length - 1]), x),
  // A per-channel gain and bias: 2c trainable, no statistics.
  layernorm: (_, x, k) => (k.trainable(2 * x[x.length - 1]), x),
  // A per-channel gain: c trainable.
  layer_scale: (_, x, k) => (k.trainable(x[x.length - 1]), x),
  maxpool: pool,
  avgpool: pool,
  zeropad: (l, [h, w, c]) => {
    const p = l.padding;
    const [t, b, left, r] = typeof p === 'number' ? [p, p, p, p] : Array.isArray(p) && p.length === 4 ? p : [0, 0, 0, 0];
    return [h + t + b, w + left + r, c];
  },
  dropout: (_, x) => x,
  global_avg_pool: (_, x) => [x[2]],
  flatten: (_, x) => [x.reduce((p, q) => p * q, 1)],
  dense: (l, x, k, classes) => {
    const units = l.units === '$classes' ? classes : num(l, 'units', 0);
    const inN = x[x.length - 1];
    const positions = l.pointwise === true ? x[0] * x[1] : 1;
    k.trainable(inN * units + (l.bias === false ? 0 : units));
    k.macs(positions * inN * units);
    return l.pointwise === true ? [x[0], x[1], units] : [units];
  },
};

/** Written ops with neither a formula here nor the activation contract: counted by their definition. */
export const BY_REGISTRY = OP_KINDS.filter((op) => OPS[op].plan !== null && FORMULAS[op as WrittenOp] === undefined && !isActivation(op));

/** The layer through its op's own definition (plan, shape rule, state_dict entries, MACs). */
function byRegistry(l: Layer, x: number[], k: Counter): number[] {
  const args: LayerArgs = {
    numbers: (key) => {
      const v = l[key];
      return v === undefined ? [] : typeof v === 'number' ? [v] : Array.isArray(v) ? v : undefined;
    },
    flag: (key, dflt) => (typeof l[key] === 'boolean' ? (l[key] as boolean) : dflt),
  };
  // The layer's own op: the attributes its plan gives are the ones its rules take.
  const def = WRITTEN_OPS[l.op] as unknown as OpDef<unknown> & { plan: (args: LayerArgs) => unknown };
  const a = def.plan(args);
  const y = def.shape(a, [x]);
  if (!Array.isArray(y)) throw new Error(`${l.op}: ${y.message}`);
  for (const e of def.state(a, [x], y)) {
    const n = e.shape.reduce((p, q) => p * q, 1);
    if (e.kind === 'param') k.trainable(n);
    else if (e.kind === 'buffer') k.nonTrainable(n);
  }
  k.macs(def.macs(a, [x], y));
  return y;
}

/** A layer's output shape, counting as it goes. */
export function walkLayer(l: Layer, x: number[], k: Counter, classes: number): number[] {
  const f = FORMULAS[l.op];
  if (f) return f(l, x, k, classes);
  if (isActivation(l.op)) return x;
  return byRegistry(l, x, k);
}

const noCount: Counter = { conv: () => {}, bn: () => {}, trainable: () => {}, nonTrainable: () => {}, macs: () => {} };

/** The map the stem gives (no counting). */
export function stemShape(a: Arch): { h: number; w: number; c: number } {
  let x = [a.input.height, a.input.width, a.input.channels];
  for (const l of a.stem) x = walkLayer(l, x, noCount, a.classes);
  return { h: x[0], w: x[1], c: x[2] };
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
  const counter: Counter = { conv, bn, trainable: (n) => (trainable += n), nonTrainable: (n) => (nonTrainable += n), macs: (n) => (macs += n) };
  const se = (c: number, r: number) => {
    const rd = Math.max(1, Math.floor(c / r));
    conv(c, rd, 1, 1, 1, 1, true);
    conv(rd, c, 1, 1, 1, 1, true);
  };

  let x = [a.input.height, a.input.width, a.input.channels];
  for (const l of a.stem) x = walkLayer(l, x, counter, a.classes);
  let [h, w, c] = x;

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
  let output: number[] = [h, w, c];
  for (const l of a.head) output = walkLayer(l, output, counter, a.classes);
  return { trainable, nonTrainable, macs, preHead, output, inserted, adds };
}
