import { evaluate, exprParams, type Arg, type DiagnosticBag, type LayerAst, type Loc, type NumArg } from '../parser/index.js';
import { closest, InternalError } from '../parser/index.js';
import { WRITTEN_OPS, type LayerArgs, type WrittenOp } from './ops.js';
import type { OpSpec, SeAttrs } from './types.js';

/** A layer with every value known: what a block or the stem/head asks the builder to add. */
export type PlannedLayer = {
  /** Name inside its scope (conv1, bn2, se, fc); the caller adds the stage.block. prefix. */
  local: string;
  loc: Loc;
} & (Exclude<OpSpec, { op: 'input' }> | { op: 'se'; attrs: SeAttrs });

/** Parameter values visible to expressions, plus where each came from (for messages). */
export type Env = Map<string, number>;

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
 * Resolves one written layer to a PlannedLayer: defaults filled in (PyTorch's, by the op's `plan`
 * in the registry), expressions evaluated. Returns undefined after reporting when a value cannot
 * be computed. `use` is expanded by the caller before layers are planned.
 */
export function planLayer(layer: LayerAst, env: Env, namer: Namer, bag: DiagnosticBag): PlannedLayer | undefined {
  const args: LayerArgs = {
    numbers: (key) => {
      const a = layer.args[key];
      return a ? numbers(key, a, env, bag) : [];
    },
    flag: (key, dflt) => {
      const a = layer.args[key];
      return a?.kind === 'bool' ? a.value : dflt;
    },
  };
  const local = layer.name ?? namer.next(layer.op);
  const base = { local, loc: layer.loc };
  const op = layer.op;
  if (layer.invalid) return undefined; // its unreadable attribute is reported already
  if (op === 'use') throw new InternalError(`"use" reached planLayer at ${layer.loc.file}:${layer.loc.line}: the caller expands it`);
  if (op === 'se') return planSe(layer, args, base);
  const planned = planWritten(op, args, base);
  if (planned?.op === 'conv' && !layer.args.padding && !sameIsSymmetric(planned.attrs)) {
    // Issue 24: an even kernel was silently padded by 1. PyTorch's default is 0 and no symmetric
    // padding keeps the size: refuse to guess.
    const [kh, kw] = planned.attrs.kernel;
    bag.error('invalid-value', `A conv with an even kernel (${kh}x${kw}) needs its padding written: no symmetric padding keeps the size, and PyTorch's default is 0.`, layer.loc, `Write padding: 0 for nn.Conv2d's default (a patchify stem: kernel: ${kh}, stride: ${kh}, padding: 0), or the padding you mean.`);
    return undefined;
  }
  return planned;
}

/** Whether 'same' padding, dilation * (kernel - 1) / 2 on each side, is a whole number both ways (odd kernels). */
function sameIsSymmetric(a: { kernel: [number, number]; dilation: [number, number] }): boolean {
  return (a.dilation[0] * (a.kernel[0] - 1)) % 2 === 0 && (a.dilation[1] * (a.kernel[1] - 1)) % 2 === 0;
}

/** `se`: its squeeze width (`squeeze`, else input // `reduction`), inner activation and gate. */
function planSe(layer: LayerAst, args: LayerArgs, base: { local: string; loc: Loc }): PlannedLayer | undefined {
  const reduction = args.numbers('reduction');
  const squeeze = args.numbers('squeeze');
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

function planWritten<K extends WrittenOp>(op: K, args: LayerArgs, base: { local: string; loc: Loc }): PlannedLayer | undefined {
  const attrs = WRITTEN_OPS[op].plan(args);
  // An op with its own attributes: TS cannot follow the pair { op: K, attrs: OpAttrs[K] } into the union.
  return attrs && ({ ...base, op, attrs } as PlannedLayer);
}
