/**
 * The PyTorch target's bench case (issue 13), registered in bench/run.ts as `--only torch`:
 * one training step of ResNet-18 (batch 32, 32x32, 10 classes, SGD) as skipgraph emits it
 * (architectures/resnet18.yaml through src/targets/torch/emit.ts) against torchvision's resnet18, with
 * the same weights, interleaved in one Python process (bench/torch_step.py); and the same step on
 * TF.js wasm (bench/train_child.ts), interleaved with them round by round, for the ratio
 * wasm / emitted PyTorch. Target: emitted / torchvision at most 1.02.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile } from '../src/compiler/files.js';
import { emitTorch } from '../src/targets/torch/emit.js';
import { arch, ROOT } from './common.js';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Stats { median: number; min: number; max: number; n: number }
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

function resultOf(cmd: string, args: string[]): any {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** Emits an architecture file (with --set overrides) as a PyTorch module into .bench-out/torch/. */
export function emitModule(name: string, sets: string[], file: string): string {
  const r = compileFile(arch(name), { sets });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(ROOT, '.bench-out', 'torch');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, emitTorch(r.graph, { source: `architectures/${name}.yaml`, version }));
  return path;
}

export function benchTorch(quick: boolean, log: (s: string) => void) {
  const rounds = quick ? 2 : 5;
  const module = emitModule('resnet18', ['input.height=32', 'input.width=32', 'classes=10'], 'resnet18_32.py');
  const emitted: number[] = [];
  const torchvision: number[] = [];
  const perRoundTorch: number[] = [];
  const wasm: number[] = [];
  const perRoundWasm: number[] = [];
  let info: any;
  for (let i = 0; i < rounds; i++) {
    // Each round: one Python process (the pair interleaved, 3 steps each, 2 rounds inside), then wasm.
    info = resultOf(PY, ['bench/torch_step.py', '--emitted', module, '--arch', 'resnet18', '--size', '32', '--batch', '32', '--classes', '10', '--rounds', '2', '--steps', '3', '--threads', '2']);
    emitted.push(...info.stepSeconds.emitted);
    torchvision.push(...info.stepSeconds.torchvision);
    perRoundTorch.push(...info.ratio);
    const w = resultOf('node', ['--import', 'tsx', 'bench/train_child.ts', '--backend', 'wasm', '--steps', '2']);
    wasm.push(...w.stepSeconds);
    perRoundWasm.push(stats(w.stepSeconds).median / stats(info.stepSeconds.emitted).median);
    log(`torch round ${i + 1}/${rounds}: emitted ${stats(info.stepSeconds.emitted).median.toFixed(3)} s/step, torchvision ${stats(info.stepSeconds.torchvision).median.toFixed(3)} s/step, wasm ${stats(w.stepSeconds).median.toFixed(3)} s/step`);
  }
  return {
    rounds,
    torch: info.torch,
    emitted: stats(emitted),
    torchvision: stats(torchvision),
    wasm: stats(wasm),
    ratioEmittedOverTorchvision: stats(perRoundTorch),
    ratioWasmOverEmitted: stats(perRoundWasm),
  };
}

const f = (x: number, d = 2): string => x.toFixed(d);
const spread = (s: Stats, d = 3): string => `${f(s.median, d)} (${f(s.min, d)} .. ${f(s.max, d)}, n=${s.n})`;

/** The section of docs/benchmarks.md for this case. */
export function torchMarkdown(t: ReturnType<typeof benchTorch>): string[] {
  const ok = t.ratioEmittedOverTorchvision.median <= 1.02;
  return [
    '## PyTorch target: a ResNet-18 training step (issue 13)',
    '',
    'Batch 32, 32x32x3, 10 classes, SGD (momentum 0.9): the module `skipgraph export --target torch` writes for',
    '`architectures/resnet18.yaml` (`--set input.height=32 input.width=32 classes=10`) against torchvision\'s',
    '`resnet18(num_classes=10)`, the same weights (torchvision\'s state_dict loaded with strict=True), interleaved',
    `in one process (bench/torch_step.py, 2 threads), ${t.rounds} processes of 2 rounds x 3 steps; TF.js wasm`,
    '(bench/train_child.ts) between them, round by round.',
    '',
    '| runtime | s per step, median (min .. max, n) | images/s |',
    '| --- | --- | ---: |',
    `| emitted module, PyTorch ${t.torch} | ${spread(t.emitted)} | ${f(32 / t.emitted.median, 1)} |`,
    `| torchvision resnet18, PyTorch ${t.torch} | ${spread(t.torchvision)} | ${f(32 / t.torchvision.median, 1)} |`,
    `| skipgraph TF.js, wasm | ${spread(t.wasm)} | ${f(32 / t.wasm.median, 1)} |`,
    `| **emitted / torchvision** (per round; target <= 1.02: ${ok ? '**met**' : '**not met**'}) | ${spread(t.ratioEmittedOverTorchvision)} | |`,
    `| **wasm / emitted PyTorch** (per round) | ${spread(t.ratioWasmOverEmitted, 2)} | |`,
    '',
  ];
}
