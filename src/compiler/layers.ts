import { evaluate, exprParams, type Arg, type DiagnosticBag, type LayerAst, type Loc, type NumArg } from '../parser/index.js';
import { closest } from '../parser/index.js';
import type { OpSpec, SeAttrs } from './types.js';

/** A layer with every value known: what a block or the stem/head asks the builder to add. */
export type PlannedLayer = {
  /** Name inside its scope (conv1, bn2, se, fc); the caller adds the stage.block. prefix. */
  local: string;
  loc: Loc;
} & (Exclude<OpSpec, { op: 'input' }> | { op: 'se'; attrs: SeAttrs });

/** Parameter values visible to expressions, plus where each came from (for messages). */
export type Env = Map<string, number>;

const pair = (v: number[]): [number, number] => (v.length === 1 ? [v[0], v[0]] : [v[0], v[1]]);
const quad = (v: number[]): [number, number, number, number] =>
  v.length === 1 ? [v[0], v[0], v[0], v[0]] : v.length === 2 ? [v[0], v[0], v[1], v[1]] : [v[0], v[1], v[2], v[3]];

/** Limits an evaluated expression must respect, as the schema does for literals. */
const RANGES: Record<string, [number, number]> = {
  filters: [1, 65536],
  kernel: [1, 64],
  stride: [1, 64],
  padding: [0, 64],
  dilation: [1, 64],
  groups: [1, 65536],
  units: [1, 1048576],
  reduction: [1, 1024],
  squeeze: [1, 65536],
};

/** Attributes that may be fractions (every other number is a whole count or size). */
const FRACTIONAL = new Set(['rate', 'epsilon', 'momentum']);

/** Limits of fractional attributes, as the schema gives for literals. */
const FRACTION_RANGES: Record<string, [number, number, string]> = {
  rate: [0, 1, 'at least 0 and below 1'],
};

/**
 * A parameter whose value cannot be known in this run (NaN: `$in` after a stage with errors, or
 * `$classes` when `classes` itself is wrong): checks that need it are skipped, not misreported.
 */
export const UNKNOWN = Number.NaN;

/**
 * Numbers of one attribute, evaluated in `env`. Reports unknown parameters (with a suggestion),
 * division by zero, overflow, fractions and out-of-range results at the expression.
 */
function numbers(key: string, arg: Arg, env: Env, bag: DiagnosticBag): number[] | undefined {
  const items: NumArg[] = arg.kind === 'list' ? arg.items : arg.kind === 'bool' || arg.kind === 'word' ? [] : [arg];
  const out: number[] = [];
  for (const it of items) {
    let v: number;
    if (it.kind === 'num') v = it.value;
    else {
      for (const p of exprParams(it.expr)) if (Number.isNaN(env.get(p))) return undefined;
      const r = evaluate(it.expr, env);
      if (typeof r !== 'number') {
        const hint = r.code === 'expr-unknown-param' ? unknownParamHint(r.param!, env) : undefined;
        bag.error(r.code, `In "${it.source}": ${r.message}.`, it.loc, hint);
        return undefined;
      }
      if (!Number.isInteger(r) && !FRACTIONAL.has(key)) {
        bag.error('expr-not-integer', `"${key}" = "${it.source}" evaluates to ${r}, not a whole number.`, it.loc, 'Use // for integer division.');
        return undefined;
      }
      v = r;
    }
    const range = RANGES[key];
    if (range && (v < range[0] || v > range[1])) {
      bag.error('out-of-range', `"${key}" is ${v}; it must be between ${range[0]} and ${range[1]}.`, it.loc);
      return undefined;
    }
    const frac = FRACTION_RANGES[key];
    if (it.kind === 'expr' && frac && !(v >= frac[0] && v < frac[1])) {
      bag.error('out-of-range', `"${key}" = "${it.source}" evaluates to ${v}; it must be ${frac[2]}.`, it.loc);
      return undefined;
    }
    out.push(v);
  }
  return out;
}

function unknownParamHint(name: string, env: Env): string {
  const c = closest(name, env.keys());
  return c ? `Did you mean "$${c}"?` : `Parameters here: ${[...env.keys()].map((k) => '$' + k).join(', ')}.`;
}

/** Default names: convs and BNs are numbered from 1 (torchvision's conv1, bn1); others are bare first. */
const BASE_NAME: Record<string, string> = { global_avg_pool: 'avgpool', dense: 'fc', zeropad: 'pad' };
const NUMBERED = new Set(['conv', 'bn']);

export class Namer {
  private readonly counts = new Map<string, number>();
  next(op: string): string {
    // Counted by name, not op: `avgpool` and `global_avg_pool` both start from "avgpool".
    const base = BASE_NAME[op] ?? op;
    const n = (this.counts.get(base) ?? 0) + 1;
    this.counts.set(base, n);
    return NUMBERED.has(op) ? `${base}${n}` : n === 1 ? base : `${base}${n}`;
  }
}

/**
 * Resolves one written layer to a PlannedLayer: defaults filled in (PyTorch's), expressions
 * evaluated. Returns undefined after reporting when a value cannot be computed.
 */
export function planLayer(layer: LayerAst, env: Env, namer: Namer, bag: DiagnosticBag): PlannedLayer | undefined {
  const get = (key: string) => {
    const a = layer.args[key];
    return a ? numbers(key, a, env, bag) : [];
  };
  const flag = (key: string, dflt: boolean) => {
    const a = layer.args[key];
    return a?.kind === 'bool' ? a.value : dflt;
  };
  const local = layer.name ?? namer.next(layer.op);
  const base = { local, loc: layer.loc };
  if (layer.invalid) return undefined; // its unreadable attribute is reported already
  switch (layer.op) {
    case 'conv': {
      const [filters, kernel, stride, dilation, groups, padding] = ['filters', 'kernel', 'stride', 'dilation', 'groups', 'padding'].map(get);
      if (!filters || !kernel || !stride || !dilation || !groups || !padding) return undefined;
      const k = pair(kernel);
      const d = dilation.length ? pair(dilation) : ([1, 1] as [number, number]);
      // Without padding, 'same' padding for odd kernels: dilation * (kernel - 1) / 2 on every side.
      // For an even kernel no symmetric padding keeps the size and PyTorch's own default is 0:
      // refuse to guess (issue 24: it silently padded by 1).
      if (!padding.length && (d[0] * (k[0] - 1)) % 2 + (d[1] * (k[1] - 1)) % 2 > 0) {
        bag.error('invalid-value', `A conv with an even kernel (${k[0]}x${k[1]}) needs its padding written: no symmetric padding keeps the size, and PyTorch's default is 0.`, layer.loc, `Write padding: 0 for nn.Conv2d's default (a patchify stem: kernel: ${k[0]}, stride: ${k[0]}, padding: 0), or the padding you mean.`);
        return undefined;
      }
      const pad = padding.length ? quad(padding) : ([(d[0] * (k[0] - 1)) / 2, (d[0] * (k[0] - 1)) / 2, (d[1] * (k[1] - 1)) / 2, (d[1] * (k[1] - 1)) / 2] as [number, number, number, number]);
      return {
        ...base,
        op: 'conv',
        attrs: { filters: filters[0], kernel: k, stride: stride.length ? pair(stride) : [1, 1], padding: pad, dilation: d, groups: groups.length ? groups[0] : 1, bias: flag('bias', false) },
      };
    }
    case 'bn': {
      const [epsilon, momentum] = ['epsilon', 'momentum'].map(get);
      if (!epsilon || !momentum) return undefined;
      return { ...base, op: 'bn', attrs: { epsilon: epsilon.length ? epsilon[0] : 1e-5, momentum: momentum.length ? momentum[0] : 0.1 } };
    }
    case 'maxpool':
    case 'avgpool': {
      const [kernel, stride, padding] = ['kernel', 'stride', 'padding'].map(get);
      if (!kernel || !stride || !padding) return undefined;
      const k = pair(kernel);
      return { ...base, op: layer.op, attrs: { kernel: k, stride: stride.length ? pair(stride) : k, padding: padding.length ? quad(padding) : [0, 0, 0, 0], ceil: false } };
    }
    case 'zeropad': {
      const padding = get('padding');
      if (!padding) return undefined;
      return { ...base, op: 'zeropad', attrs: { padding: quad(padding) } };
    }
    case 'dense': {
      const units = get('units');
      if (!units) return undefined;
      return { ...base, op: 'dense', attrs: { units: units[0], bias: flag('bias', true) } };
    }
    case 'dropout': {
      // A literal, a block parameter or an expression ($drop, $drop / 2), as every number in a block.
      const rate = get('rate');
      if (!rate) return undefined;
      return { ...base, op: 'dropout', attrs: { rate: rate.length ? rate[0] : 0.5 } };
    }
    case 'global_avg_pool':
      return { ...base, op: 'global_avg_pool', attrs: { keepdims: false } };
    case 'se': {
      const [reduction, squeeze] = ['reduction', 'squeeze'].map(get);
      if (!reduction || !squeeze) return undefined;
      const word = (key: string) => {
        const a = layer.args[key];
        return a?.kind === 'word' ? a.value : undefined;
      };
      const attrs: SeAttrs = squeeze.length ? { squeeze: squeeze[0] } : { reduction: reduction.length ? reduction[0] : 16 };
      if (word('activation')) attrs.activation = word('activation') as SeAttrs['activation'];
      if (word('gate')) attrs.gate = word('gate') as SeAttrs['gate'];
      return { ...base, op: 'se', attrs };
    }
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'silu':
    case 'tanh':
    case 'flatten':
      return { ...base, op: layer.op, attrs: {} };
    default:
      // `use` is expanded by the caller; the schema admits no other op.
      return undefined;
  }
}
