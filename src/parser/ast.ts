import type { Expr } from './expr.js';
import type { Loc } from './location.js';
import type { ACTIVATIONS, LayerOp } from './schema.js';

/** An activation a file may name as a word (an SE's `activation`): the schema's enum, generated from it. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/** Shortcut rules (docs/dsl.md "Shortcuts"); kept in step with the schema's `shortcut` enum. */
export type ShortcutRuleName = 'projection' | 'identity' | 'zeropad' | 'conv' | 'avgdown' | 'identity_or_none' | 'none';

/** Built-in block types; kept in step with docs/dsl.md. */
export const BUILTIN_BLOCKS = ['basic', 'bottleneck', 'preact_basic', 'preact_bottleneck', 'regnet_x', 'regnet_y'] as const;
export type BuiltinBlock = (typeof BUILTIN_BLOCKS)[number];

/** A number as written: a literal, or an expression over block parameters evaluated at compile time. */
export type NumArg = { kind: 'num'; value: number; loc: Loc } | { kind: 'expr'; source: string; expr: Expr; loc: Loc };

/** A layer attribute: a number (or expression), a pair/quad of them, a flag, or a word from the schema's enum (`activation: silu`). */
export type Arg = NumArg | { kind: 'list'; items: NumArg[]; loc: Loc } | { kind: 'bool'; value: boolean; loc: Loc } | { kind: 'word'; value: string; loc: Loc };

export interface LayerAst {
  /** One of the schema's layer ops (the schema has checked it). */
  op: LayerOp;
  /** Explicit node name, when the YAML gives one. */
  name?: string;
  /** Every attribute but `op` and `name`, as written. */
  args: Record<string, Arg>;
  loc: Loc;
  opLoc: Loc;
  /** For `op: use`: the inlined block and its parameter values. */
  /** An attribute could not be read (an expression that does not parse, already reported): not planned. */
  invalid?: boolean;
  /** For `op: use`: the inlined block and its parameter values (numbers or expressions in the caller's scope). */
  use?: { block: string; params: Record<string, NumArg>; blockLoc: Loc };
}

export interface SeAst {
  /** Squeeze width = the SE input's channels // reduction (when `ratio` is absent). */
  reduction: number;
  /** Squeeze width = round(ratio * width), the width named by `of` (RegNet-Y: 0.25 of the block's input). */
  ratio?: number;
  of: 'current' | 'input';
  /** The activation between the two 1x1 convs (default relu; EfficientNet's is silu). */
  activation?: ActivationName;
  /** The gate (default sigmoid; MobileNetV3's is hardsigmoid). */
  gate?: 'sigmoid' | 'hardsigmoid';
  loc: Loc;
}

/** Node names of generated RegNet stages: torchvision's (to import its weights) or pycls's. */
export type RegNetNames = 'torchvision' | 'pycls';

/** A RegNet/AnyNet design (pycls's parameters) that the compiler expands into stages. */
export interface RegNetAst {
  depth: number;
  w0: number;
  wa: number;
  wm: number;
  groupWidth: number;
  bottleneckRatio: number;
  seRatio: number;
  stride: number;
  quantum: number;
  rounding: 'pycls' | 'torchvision';
  names: RegNetNames;
  shortcut?: ShortcutRuleName;
  loc: Loc;
  fieldLocs: Record<string, Loc>;
}

export interface StageAst {
  index: number;
  /** Explicit stage name; defaults to layer{index+1} (torchvision). */
  name?: string;
  block: string;
  channels: number;
  blocks: number;
  stride: number;
  groups: number;
  widthPerGroup: number;
  dilation: number;
  /**
   * Dilation of block 0's 3x3 conv: `first_dilation` when written, else the previous stage's
   * dilation (1 for the first stage). torchvision's replace_stride_with_dilation gives block 0
   * the previous dilation (layer3.0.conv2 has d=1, layer4.0.conv2 d=2), as timm's first_dilation.
   */
  firstDilation: number;
  shortcut: ShortcutRuleName;
  /** Squeeze-excitation in each block, or null. */
  se: SeAst | null;
  /** Values for a user block's parameters. */
  params: Record<string, number>;
  /** RegNet blocks: channels per group of the 3x3 conv (0 when not written). */
  groupWidth: number;
  /** RegNet blocks: bottleneck width = round(channels * bottleneckRatio). */
  bottleneckRatio: number;
  /** Generated RegNet stages: how their blocks are named (absent: `<stage>.<index>.`). */
  naming?: RegNetNames;
  /** Stochastic depth of every block of the stage (`drop_path`), overriding the network's schedule. */
  dropPath?: number;
  /**
   * How blocks are named: `nested` (`<stage>.<i>.`, torchvision's ResNets), `flat` (`<stage>.<k>.`,
   * k counting on from the previous stage of the same name, MobileNet's `features.N`), or `none`
   * (`<stage>.`, for a one-block stage of layers between stages).
   */
  numbering: 'nested' | 'flat' | 'none';
  /** The number of the stage's first block (`first_index`), when written. */
  firstIndex?: number;
  /** A `{ regnet: ... }` item, not yet expanded into stages (the compiler does that first). */
  design?: RegNetAst;
  loc: Loc;
  /** Where each field was written (or the stage, when it came from a default). */
  fieldLocs: Record<string, Loc>;
}

export interface BlockDefAst {
  name: string;
  params: Record<string, number>;
  /** Where each declared parameter is written. */
  paramLocs: Record<string, Loc>;
  /** Pre-activation layers on the block's input; a projection shortcut reads their output. */
  pre: LayerAst[];
  layers: LayerAst[];
  post: string;
  loc: Loc;
}

export interface ArchitectureAst {
  file: string;
  name: string;
  description?: string;
  input: { height: number; width: number; channels: number; loc: Loc; fieldLocs?: Record<string, Loc> };
  /** Number of classes ($classes); a backbone (a file with `features`) may leave it out. */
  classes?: number;
  shortcut: ShortcutRuleName;
  /** Stochastic depth: timm's drop_path_rate, spread linearly over every block (0 = none). */
  dropPathRate?: number;
  /** How drop_path_rate is spread: timm's linspace, j / (n - 1), or torchvision EfficientNet's j / n. */
  dropPathSchedule: 'linspace' | 'efficientnet';
  /** Network parameters (`params:`), visible as $name in the stem, the head and every block. */
  params: Record<string, number>;
  paramLocs: Record<string, Loc>;
  /** EfficientNet's compound scaling of every stage's channels and blocks (`scaling:`). */
  scaling?: { width: number; depth: number; divisor: number; loc: Loc };
  stem: LayerAst[];
  stages: StageAst[];
  /** The head's layers; empty for a backbone (`head: none`, or no head beside `features`). */
  head: LayerAst[];
  /**
   * A backbone's outputs (`features:`), in the file's order, each where it is written: a stage name
   * (its last block's output) or a node id. Absent for a classifier.
   */
  features?: FeatureAst[];
  blocks: Map<string, BlockDefAst>;
  loc: Loc;
  fieldLocs: Record<string, Loc>;
  /** Set when the file had schema errors: the parts replaced by stand-ins, which the compiler skips. */
  partial?: PartialParts;
}

/** One item of `features:` as written. */
export interface FeatureAst {
  name: string;
  loc: Loc;
}

/** The parts of a file with schema errors that were replaced by stand-ins (src/parser/recover.ts). */
export interface PartialParts {
  input: boolean;
  classes: boolean;
  stem: boolean;
  head: boolean;
  /** Indices of stages. */
  stages: number[];
  /** Names of block definitions. */
  blocks: string[];
}
