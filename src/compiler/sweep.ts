import type { Diagnostic } from '../parser/index.js';
import type { Limits } from './limits.js';
import type { CompiledGraph } from './types.js';
import { mulberry32 } from '../random/index.js';

/**
 * Design-space sweeps over one architecture file: every variant is the file with some `--set`
 * values, compiled in process, measured (params, MACs, activations) and kept or rejected by
 * complexity limits, as pycls samples its design spaces. A bad variant is a row with its error,
 * never the end of the sweep. The sweep of a file itself, `sweep()`, opens it: files.ts.
 */

/** One axis: a `--set` path and the values it takes. */
export type Axis = { path: string; values: string[] } | { path: string; range: [number, number]; integer: boolean };

/** A bound on a measured figure, as pycls's complexity limits. */
export interface Constraint {
  figure: SweepFigure;
  min?: number;
  max?: number;
}

export type SweepFigure = 'params' | 'macs' | 'activations';

export interface SweepOptions {
  /** Cartesian product of every `values` axis (grid), or `sample` random draws over all axes. */
  axes: Axis[];
  sample?: number;
  seed?: number;
  constraints?: Constraint[];
  /** Fixed `--set` values applied to every variant, before the axes. */
  sets?: string[];
  limits?: Partial<Limits>;
  /** Most variants a sweep may hold (a grid's product is checked before anything compiles). */
  maxVariants?: number;
}

export interface SweepRow {
  /** The axis values of this variant, by path. */
  settings: Record<string, string>;
  status: 'ok' | 'rejected' | 'error';
  /** Why a variant was rejected or failed. */
  reason?: string;
  /** Trainable parameters (torchvision's count). */
  params?: number;
  /** Multiply-accumulates (torchvision/torchinfo convention). */
  macs?: number;
  /** 2 x MACs: a multiply and an add each. fvcore and pycls call MACs "flops"; this does not. */
  flops?: number;
  /** pycls's activations: output elements of every conv and dense node, for one image. */
  activations?: number;
  graph?: CompiledGraph;
  diagnostics?: Diagnostic[];
}

export const DEFAULT_MAX_VARIANTS = 100_000;

/** `path=v1,v2,...` (grid or choice), or `path=lo..hi` (a range to sample). */
export function parseAxis(arg: string): Axis | { error: string } {
  const eq = arg.indexOf('=');
  if (eq <= 0) return { error: `"${arg}" is not path=values (for example stages.2.blocks=2,4,6 or stages.2.blocks=2..8)` };
  const path = arg.slice(0, eq).trim();
  const spec = arg.slice(eq + 1).trim();
  const range = /^(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)$/.exec(spec);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (!(lo <= hi)) return { error: `the range ${spec} of ${path} is empty (write low..high)` };
    return { path, range: [lo, hi], integer: !range[1].includes('.') && !range[2].includes('.') };
  }
  const values = spec.split(/[,|]/).map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) return { error: `${path} has no values` };
  return { path, values };
}

/** `4.5G`, `25M`, `300k`, `1e9`, `12345`: a count with an SI suffix. */
export function parseCount(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmMgGtT]?)\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * scale;
}

/**
 * How many distinct variants the axes hold: the product of each axis's choices (Infinity with a
 * real-valued range, whose draws are 4 significant digits and practically never repeat).
 */
export function spaceSize(axes: SweepOptions['axes']): number {
  return axes.reduce((n, a) => n * ('values' in a ? new Set(a.values).size : a.integer ? a.range[1] - a.range[0] + 1 : Infinity), 1);
}

/** The settings of every variant: the grid's cartesian product, or `sample` seeded draws (distinct). */
export function variants(opts: Pick<SweepOptions, 'axes' | 'sample' | 'seed' | 'maxVariants'>): Record<string, string>[] | { error: string } {
  const max = opts.maxVariants ?? DEFAULT_MAX_VARIANTS;
  if (opts.sample !== undefined) {
    if (opts.sample > max) return { error: `--sample ${opts.sample} is over the limit of ${max.toLocaleString('en-US')} variants` };
    const rnd = mulberry32(opts.seed ?? 0); // src/random: the same seed draws the same variants everywhere
    // Distinct variants only: a draw equal to an earlier one is drawn again. A space smaller than
    // the sample (e.g. 7 x 3 choices) gives each of its variants once, and no more.
    const want = Math.min(opts.sample, spaceSize(opts.axes));
    const out: Record<string, string>[] = [];
    const seen = new Set<string>();
    for (let tries = 0; out.length < want && tries < 100 * opts.sample; tries++) {
      const v: Record<string, string> = {};
      for (const a of opts.axes) {
        if ('values' in a) v[a.path] = a.values[Math.floor(rnd() * a.values.length)];
        else if (a.integer) v[a.path] = String(a.range[0] + Math.floor(rnd() * (a.range[1] - a.range[0] + 1)));
        else v[a.path] = String(Number((a.range[0] + rnd() * (a.range[1] - a.range[0])).toPrecision(4)));
      }
      const key = JSON.stringify(opts.axes.map((a) => v[a.path]));
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(v);
    }
    return out;
  }
  const ranged = opts.axes.find((a) => !('values' in a));
  if (ranged) return { error: `${ranged.path} is a range: ranges are sampled, so add --sample N (or list its values for a grid)` };
  const total = opts.axes.reduce((n, a) => n * ('values' in a ? a.values.length : 1), 1);
  if (total > max) return { error: `the grid has ${total.toLocaleString('en-US')} variants, over the limit of ${max.toLocaleString('en-US')}` };
  let out: Record<string, string>[] = [{}];
  for (const a of opts.axes) {
    if (!('values' in a)) continue;
    const next: Record<string, string>[] = [];
    for (const v of out) for (const value of a.values) next.push({ ...v, [a.path]: value });
    out = next;
  }
  return out;
}

/** Output elements of conv and dense nodes for one image (pycls's "acts"). */
export function activations(g: CompiledGraph): number {
  let n = 0;
  for (const node of g.nodes) if (node.op === 'conv' || node.op === 'dense') n += node.shape.reduce((p, q) => p * q, 1);
  return n;
}

const FIGURE_NAMES: Record<SweepFigure, string> = { params: 'params', macs: 'MACs', activations: 'activations' };

export function violation(row: SweepRow, constraints: readonly Constraint[]): string | undefined {
  for (const c of constraints) {
    const v = row[c.figure]!;
    if (c.max !== undefined && v > c.max) return `${FIGURE_NAMES[c.figure]} ${formatCount(v)} > ${formatCount(c.max)}`;
    if (c.min !== undefined && v < c.min) return `${FIGURE_NAMES[c.figure]} ${formatCount(v)} < ${formatCount(c.min)}`;
  }
  return undefined;
}

/** 4.09G, 25.6M, 512k: three significant figures. */
export function formatCount(n: number): string {
  for (const [s, f] of [['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (Math.abs(n) >= f) return `${Number((n / f).toPrecision(3))}${s}`;
  return String(n);
}

/**
 * Indices of the points on the Pareto front: those no other point beats in both coordinates
 * (at least as good in both, better in one), each coordinate minimised or maximised as asked.
 */
export function paretoFront(points: readonly { x: number; y: number }[], goal: { x: 'min' | 'max'; y: 'min' | 'max' } = { x: 'min', y: 'min' }): Set<number> {
  const sx = goal.x === 'min' ? 1 : -1;
  const sy = goal.y === 'min' ? 1 : -1;
  // Best x first (ties: best y first); a point is on the front when its y beats every y before it.
  const order = points.map((_, i) => i).sort((a, b) => sx * (points[a].x - points[b].x) || sy * (points[a].y - points[b].y));
  const front = new Set<number>();
  let best = Infinity;
  for (const i of order) {
    const y = sy * points[i].y;
    if (y < best) {
      front.add(i);
      best = y;
    }
  }
  return front;
}
