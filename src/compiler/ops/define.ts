/**
 * What one op is, in one place: the shape of its definition (OpDef) and the small helpers the op
 * files share. Each op lives in its own file beside this one (conv.ts, bn.ts, ...); ../ops.ts
 * gathers them into THE registry, keyed by op. Everything the compiler knows about an op (its
 * attributes, how a written layer becomes them, its shape rule, its state_dict entries and so its
 * parameter count, its MACs, whether pycls counts its activations, how the printers describe it)
 * is read from there; nothing else switches over ops with a silent default.
 */
import type { DiagnosticCode } from '../../parser/index.js';
import type { InitRule } from './init_rules.js';

/** A shape rule's refusal; the builder turns it into a located diagnostic. */
export interface ShapeError {
  code: DiagnosticCode;
  message: string;
  hint?: string;
}

/**
 * The suffix of a state_dict key after the node id: `layer1.0.bn1.running_var`; `self`: no
 * suffix, the key is the node id (an nn.Parameter its parent module holds: `features.1.0.layer_scale`).
 */
export type StateRole = 'weight' | 'bias' | 'running_mean' | 'running_var' | 'num_batches_tracked' | 'self';

/**
 * One tensor of the op's PyTorch module state_dict. `param`: trainable (counted in "params");
 * `buffer`: float statistics that are saved but not trained (BN running mean and variance;
 * Keras's non-trainable weights); `counter`: an integer step counter (BN's num_batches_tracked),
 * in the state_dict but no weight: not counted, not loaded, accepted when present.
 */
export interface StateEntry {
  role: StateRole;
  /** PyTorch's layout: conv [O, I/groups, kh, kw], dense [out, in]; [] for a scalar. */
  shape: number[];
  kind: 'param' | 'buffer' | 'counter';
}

/** The attributes of a written layer, read for an op's `plan` (src/compiler/layers.ts evaluates them). */
export interface LayerArgs {
  /**
   * The numbers of one attribute (a literal, a list or expressions, evaluated and range-checked):
   * [] when the attribute is absent, undefined when it failed (already reported).
   */
  numbers(key: string): number[] | undefined;
  /** A boolean attribute, or `dflt` when absent. */
  flag(key: string, dflt: boolean): boolean;
}

/** Everything about one op but its name. `A` is its attribute type. */
export interface OpDef<A> {
  /** One line: what it computes (docs, --explain). */
  description: string;
  /**
   * A written layer's attributes with PyTorch's defaults filled in; undefined after a bad value
   * was reported. null for ops only the compiler inserts (the schema lets no file write them).
   */
  plan: ((args: LayerArgs) => A | undefined) | null;
  /** Output shape from the input shapes (channels-last, no batch) with PyTorch's arithmetic, or why not. */
  shape(a: A, inputs: number[][]): number[] | ShapeError;
  /** Its state_dict entries in torchvision's order, PyTorch layouts ([] for ops without state). */
  state(a: A, inputs: number[][], out: number[]): StateEntry[];
  /** Multiply-accumulates (torchvision/torchinfo convention: conv and dense only; bias adds are free). */
  macs(a: A, inputs: number[][], out: number[]): number;
  /**
   * How its fresh float tensors are drawn (torchvision's initialisation; rules in init_rules.ts),
   * one rule for all its roles; null for an op without parameters or buffers. Required, so a new
   * op is a tsc error in its own file until someone decides.
   */
  init: InitRule | null;
  /**
   * An elementwise function of one tensor without state (relu, gelu, ...): pictures draw it as an
   * activation, and one without attributes is a word a file may name as a block's `post` or an
   * SE's `activation` (ActivationOp in ../ops.ts). Only an ActivationDef says true.
   */
  activation: boolean;
  /** A tiny use of the op: the docs' and the tests' (every op is run from its example). */
  example: OpExample;
  /** pycls's activations count this op's output elements (conv and dense do). */
  countsActivations: boolean;
  /**
   * It keeps a block's main path what the path's last BN made it, up to an elementwise change
   * (activations, dropout, drop_path, the SE multiply's x): the walk back from a residual add to
   * the block-ending BN crosses it (analyses/block_last.ts).
   */
  keepsBlockPath: boolean;
  /** A short, readable form for tables and pictures: `conv 3x3/2 g32`. */
  describe(a: A): string;
}

/** An op a file may write (a schema layer op): it has a `plan`. */
export type WrittenOpDef<A> = OpDef<A> & { plan: (args: LayerArgs) => A | undefined; activation: false; example: LayerExample };
/** An activation (see OpDef.activation): written, elementwise, stateless. */
export type ActivationDef<A> = OpDef<A> & { plan: (args: LayerArgs) => A | undefined; activation: true; example: LayerExample };
/** An op only the compiler inserts. */
export type InsertedOpDef<A> = OpDef<A> & { plan: null; activation: false; example: InsertedExample };

/**
 * A written op's example: one layer in YAML flow style, as a file writes it, that fits any input
 * of its kind however small (a 1x1 map with one channel included: no groups, kernels padded), and
 * what it takes and gives: a [height, width, channels] `map`, or a `flat` [features] tensor (after
 * global_avg_pool).
 */
export interface LayerExample {
  layer: string;
  takes: 'map' | 'flat';
  gives: 'map' | 'flat';
}
/**
 * An inserted op's example: a stage (YAML flow style, after a stem that gives 4 channels) whose
 * blocks make the compiler insert it, and the top-level lines of the file it needs.
 */
export interface InsertedExample {
  stage: string;
  top?: string[];
}
export type OpExample = LayerExample | InsertedExample;

/** Ops without attributes. */
export type NoAttrs = Record<string, never>;

export const fmt = (s: readonly number[]) => s.join('x');
export const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export const pair = (v: number[]): [number, number] => (v.length === 1 ? [v[0], v[0]] : [v[0], v[1]]);
export const quad = (v: number[]): [number, number, number, number] =>
  v.length === 1 ? [v[0], v[0], v[0], v[0]] : v.length === 2 ? [v[0], v[0], v[1], v[1]] : [v[0], v[1], v[2], v[3]];

/** `3x3` or `3x5`. */
export const hw = ([a, b]: readonly number[]) => (a === b ? `${a}x${a}` : `${a}x${b}`);
/** `''` for stride 1, `/2`, `/2x1`. */
export const st = ([a, b]: readonly number[]) => (a === 1 && b === 1 ? '' : a === b ? `/${a}` : `/${a}x${b}`);

/** A learned gain and bias per channel (the last axis of `out`): batch norm's and layer norm's first two entries. */
export function channelAffine(out: readonly number[]): StateEntry[] {
  const c = [out[out.length - 1]];
  return [
    { role: 'weight', shape: c, kind: 'param' },
    { role: 'bias', shape: [...c], kind: 'param' },
  ];
}

/** No state, no MACs, nothing to initialise: most ops. */
export const stateless = {
  state: (): StateEntry[] => [],
  macs: () => 0,
  init: null,
  countsActivations: false,
} as const;

/** The refusal of an op that needs a [height, width, channels] map, or undefined when it has one. */
export function needMap(op: string, x: readonly number[]): ShapeError | undefined {
  return x.length === 3 ? undefined : { code: 'shape-mismatch', message: `"${op}" needs a [height, width, channels] map, but its input is flat [${fmt(x)}].`, hint: 'Put it before the global_avg_pool/flatten of the head.' };
}

export function tooSmall(op: string, x: readonly number[], out: readonly number[]): ShapeError {
  return {
    code: 'spatial-too-small',
    message: `"${op}" would shrink the ${x[0]}x${x[1]} map to ${out[0]}x${out[1]}; every map must stay at least 1x1.`,
    hint: 'Use a larger input, fewer stride-2 stages, or smaller kernels.',
  };
}

/** PyTorch's output size of a conv/pool along one axis (floor mode). */
export function convOut(size: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation = 1): number {
  return Math.floor((size + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** PyTorch's ceil_mode output size: a window may not start inside the right padding. */
export function poolOutCeil(size: number, kernel: number, stride: number, padBefore: number, padAfter: number): number {
  let out = Math.ceil((size + padBefore + padAfter - kernel) / stride) + 1;
  if ((out - 1) * stride >= size + padBefore) out--;
  return out;
}
