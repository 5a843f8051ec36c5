/**
 * What a random architecture is (the generator in arch_gen.ts writes it, the independent model in
 * arch_model.ts counts it): its types, the user blocks every file may use, and how many runs a
 * property makes with which seed.
 */
import type { WrittenOp } from '../../src/compiler/ops.js';

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
export type BlockName = (typeof BUILTIN)[number] | (typeof USER)[number];

/** One written layer: its op and attributes as the YAML writes them (a registry example, parsed, or a drawn one). */
export type Layer = { op: WrittenOp } & { [attr: string]: number | number[] | boolean | string };

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
  /** timm's stochastic depth over the blocks (the compiler inserts drop_path nodes). */
  drop_path_rate?: number;
  stage_defaults?: { se?: boolean | { reduction: number } };
  stem: Layer[];
  stages: Stage[];
  /** A global_avg_pool or flatten, flat layers, then the classifier's dense. */
  head: Layer[];
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

export function outChannels(s: Stage): number {
  if (s.block === 'basic' || s.block === 'preact_basic' || s.block === 'plain') return s.channels;
  if (s.block === 'bottle') return s.channels * (s.params?.e ?? 2);
  return s.channels * 4;
}
