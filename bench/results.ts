/**
 * The results of `npm run bench`: one typed record, keyed by case, that bench/results/latest.json
 * holds and docs/benchmarks.md is generated from (bench/report.ts). Each case writes its own key;
 * under `--only` the other keys come from the previous latest.json, so every key is optional and
 * fields added later (a load average, a second ratio) are optional too: older results lack them.
 *
 * Also the statistics every case shares (median and spread of repetitions, per-round ratios) and
 * the number formats of the report.
 */
import type { benchTorch } from './torch_case.js';
import type { benchTorchEpoch } from './torch_epoch.js';

// ---------------------------------------------------------------- statistics

/** A measurement repeated n times: its median and its spread. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Per-round ratios a[i] / b[i] of two interleaved series. */
export const ratios = (a: readonly number[], b: readonly number[]): number[] => a.map((v, i) => v / b[i]);

/** A ratio measured on a busy machine is not reported: why not (bench/common.ts, loadRefusal). */
export interface Refused {
  refused: string;
}

/** The 1-, 5- and 15-minute load averages, rounded to 2 decimals. */
export type LoadAverage = number[];

// ---------------------------------------------------------------- the cases' results

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  tfjs: string;
  tfjsWasm: string;
  /** "torch torchvision" versions, or "not found". */
  torch: string;
  loadAverageStart: LoadAverage;
  loadAverageEnd: LoadAverage;
  date: string;
  quick: boolean;
}

/** `compile`: one architecture (shipped, or a synthetic stack of N blocks), in process, warm. */
export interface CompileRow {
  name: string;
  blocks: number;
  nodes: number;
  ms: Stats;
  msPerBlock: number;
}

/** `compile-families`: each shipped architecture, in process (warm) and as a cold CLI process. */
export interface CompileFamilyRow {
  /** The file's name without .yaml. */
  name: string;
  nodes: number;
  /** compileFile in process, after a warm-up: milliseconds per compile. */
  inProcessMs: Stats;
  /** `node bin/skipgraph.js compile architectures/NAME.yaml` (a fresh process): seconds. */
  cliSeconds: Stats;
}

export interface CompileFamilies {
  rounds: number;
  /** What the cold side ran (the dist/ CLI). */
  command: string;
  loadAverageStart: LoadAverage;
  loadAverageEnd: LoadAverage;
  rows: CompileFamilyRow[];
}

/** `families-targets`: one shipped file against torchvision, through each target's CLI. */
export interface FamilyTargetsRow {
  file: string;
  /** torchvision's builder, with its keyword arguments when the `# equals:` line has some. */
  model: string;
  /** Input height and width. */
  size: number;
  /** Trainable parameters (the compiler's, equal to torchvision's). */
  params: number;
  /** max |target - torchvision| / max |torchvision|, eval mode. */
  diff: { torch: number; onnx: number; tfjs: number };
  logitScale: number;
  seconds: { reference: number; torch: number; onnx: number; tfjs: number };
}

export interface FamiliesTargets {
  command: string;
  loadAverageStart: LoadAverage;
  loadAverageEnd: LoadAverage;
  totalSeconds: number;
  rows: FamilyTargetsRow[];
}

/** `cli`: the whole CLI compiling resnet152 against PyTorch building it, interleaved. */
export interface CliResult {
  seconds: { cli: Stats; torch: Stats; nodeEmpty: Stats };
  ratioTorchOverCli: Stats;
  raw: { cli: number[]; torch: number[]; nodeEmpty: number[] };
}

/** `cold-start`: the packed CLI's first command against `node -e ''`, interleaved pairs. */
export interface ColdStart {
  command: string;
  seconds: { cli: Stats; nodeEmpty: Stats };
  ratio: Stats;
  load: { start: number; end: number };
  raw: { cli: number[]; nodeEmpty: number[] };
}

export interface ProfileEntry {
  name: string;
  ms: number;
  share: number;
}

/** One CPU profile, summarised by self time per function and per package. */
export interface Profile {
  command: string;
  /** Set for the warm in-process profile only (0 for the CLI's). */
  perCompileMs: number;
  runs: number;
  totalMs: number;
  functions: ProfileEntry[];
  packages: ProfileEntry[];
}

/** Seconds per step and peak resident memory of one runtime. */
export interface StepAndMemory {
  stepSeconds: Stats;
  peakRssMiB: Stats;
}

export interface Kernel {
  name: string;
  ms: number;
  count: number;
}

/** `train`: a ResNet-18 training step on wasm, cpu and webgpu against PyTorch. */
export interface TrainResult {
  steps: number;
  rounds: number;
  wasm: StepAndMemory;
  torch: StepAndMemory;
  /** Absent in results measured before the one-thread column. */
  torch1?: StepAndMemory;
  /** Absent in results measured before the load gate. */
  loadAverageAtStart?: number;
  maxLoad?: number;
  cpu: { stepSeconds: Stats; peakRssMiB: number };
  webgpu?: { stepSeconds: number; peakRssMiB: number; adapter: string } | { absent: string };
  ratioWasmOverTorch: Stats | Refused;
  ratioWasmOverTorch1?: Stats | Refused;
  wasmKernels: (Kernel & { share: number })[];
  wasmKernelTotalMs: number;
}

/** Emitted against hand-written, one measure. */
export interface EmittedVsHand {
  emitted: Stats;
  hand: Stats;
  ratio: Stats;
}

/** `overhead`: the emitted ResNet-18 against a hand-written tf.layers one. */
export interface Overhead {
  backend: string;
  params: number;
  forward: EmittedVsHand;
  step: EmittedVsHand;
}

/** `fold`: folded against plain inference, one input size and batch. */
export interface FoldRow {
  backend: string;
  size: number;
  batch: number;
  maxRelDiff: number;
  params: number;
  foldedConvs: number;
  kernelsPerPredict: { plain: number; folded: number };
  kernelMs?: { name: string; ms: number }[];
  plain: Stats;
  folded: Stats;
  speedup: Stats;
}

/** `sweep`: 1,000 ResNet-50 variants in process. */
export interface SweepResult {
  seconds: number;
  variants: number;
  kept: number;
  perVariantMs: number;
  loadAverageAtStart: number;
}

/** Everything bench/results/latest.json holds: one key per case, the machine and the notes. */
export interface BenchResults {
  machine: Machine;
  compile?: CompileRow[];
  compileFamilies?: CompileFamilies;
  familiesTargets?: FamiliesTargets;
  cli?: CliResult;
  coldStart?: ColdStart;
  profile?: { cli: Profile; warm: Profile };
  train?: TrainResult;
  overhead?: Overhead;
  fold?: FoldRow[];
  torch?: ReturnType<typeof benchTorch>;
  torchEpoch?: ReturnType<typeof benchTorchEpoch>;
  sweep?: SweepResult;
  /** bench/notes.md, line by line: the last section of the report. */
  notes?: string[];
}

// ---------------------------------------------------------------- number formats of the report

export const f = (x: number, d = 2): string => x.toFixed(d);
export const spread = (s: Stats, d = 2, k = 1): string => `${f(s.median * k, d)} (${f(s.min * k, d)} .. ${f(s.max * k, d)}, n=${s.n})`;
export const verdict = (ok: boolean): string => (ok ? '**met**' : '**not met**');
