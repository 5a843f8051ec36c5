/**
 * The bench cases of the TF.js runtime: `train` (a ResNet-18 step on wasm, cpu and webgpu against
 * PyTorch, with peak memory), `overhead` (emitted against hand-written), `fold` (folded against
 * plain inference) and `sweep` (1,000 variants in process).
 */
import { loadavg } from 'node:os';
import { loadRefusal, MAX_LOAD } from './common.js';
import { child, PY, tsChild, type BenchContext } from './harness.js';
import { f, ratios, spread, stats, type FoldRow, type Kernel, type Overhead, type Refused, type Stats, type SweepResult, type TrainResult } from './results.js';

// ---------------------------------------------------------------- the children's result lines

/** bench/train_child.ts */
interface TrainChild { backend: string; adapter?: string; stepSeconds: number[]; peakRssKiB: number; kernels: Kernel[] }
/** bench/torch_ref.py train */
interface TorchTrainChild { stepSeconds: number[]; peakRssKiB: number }
/** bench/overhead_child.ts */
interface OverheadChild { backend: string; params: number; forward: { emitted: number[]; hand: number[] }; step: { emitted: number[]; hand: number[] } }
/** bench/fold_child.ts */
interface FoldChild extends Omit<FoldRow, 'plain' | 'folded' | 'speedup'> { plain: number[]; folded: number[] }

// ---------------------------------------------------------------- train: training step, peak RSS

/** The ratio, or why it is not reported (the machine was busy at the start: bench/common.ts). */
function ratioOrRefusal(perRound: number[], loadAtStart: number): Stats | Refused {
  const refused = loadRefusal(loadAtStart);
  return refused ? { refused } : stats(perRound);
}

/** A ratio, its refusal, or (for results measured before the load gate existed) why none is shown. */
const ratioText = (r: Stats | Refused | undefined, t: TrainResult): string =>
  t.loadAverageAtStart === undefined
    ? `not reported: measured before bench/run.ts checked the load (see "Against PyTorch" below)`
    : r && 'refused' in r ? r.refused : spread(r!);

export function benchTrain({ quick, log }: BenchContext): TrainResult {
  const rounds = quick ? 1 : 3;
  const steps = quick ? 2 : 3;
  const loadAtStart = loadavg()[0];
  log(`train: load average ${loadavg().map((v) => v.toFixed(2)).join(', ')} at start (ratios reported only at or below ${MAX_LOAD})`);
  const w = { step: [] as number[], rss: [] as number[] };
  const p = { step: [] as number[], rss: [] as number[] };
  const p1 = { step: [] as number[], rss: [] as number[] };
  const perRound: number[] = [];
  const perRound1: number[] = [];
  let kernels: Kernel[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = tsChild<TrainChild>('train_child.ts', ['--backend', 'wasm', '--steps', String(steps), ...(i === 0 ? ['--profile'] : [])]);
    const b = child<TorchTrainChild>(PY, ['bench/torch_ref.py', 'train', String(steps), '2']);
    const b1 = child<TorchTrainChild>(PY, ['bench/torch_ref.py', 'train', String(steps), '1']);
    if (i === 0) kernels = a.kernels;
    w.step.push(...a.stepSeconds); w.rss.push(a.peakRssKiB);
    p.step.push(...b.stepSeconds); p.rss.push(b.peakRssKiB);
    p1.step.push(...b1.stepSeconds); p1.rss.push(b1.peakRssKiB);
    perRound.push(stats(a.stepSeconds).median / stats(b.stepSeconds).median);
    perRound1.push(stats(a.stepSeconds).median / stats(b1.stepSeconds).median);
    log(`train round ${i + 1}/${rounds}: wasm ${stats(a.stepSeconds).median.toFixed(2)} s/step, torch ${stats(b.stepSeconds).median.toFixed(2)} s/step (2 threads), ${stats(b1.stepSeconds).median.toFixed(2)} s/step (1 thread); load ${loadavg()[0].toFixed(2)}`);
  }
  log('train on cpu (one child: warm-up + 1 step; slow)');
  const c = tsChild<TrainChild>('train_child.ts', ['--backend', 'cpu', '--steps', '1']);
  // WebGPU where an adapter can be had (here: Mesa llvmpipe, a software adapter, forced).
  let webgpu: TrainResult['webgpu'];
  try {
    log('train on webgpu (one child: warm-up + 1 step)');
    const g = tsChild<TrainChild>('train_child.ts', ['--backend', 'webgpu', '--steps', '1']);
    webgpu = { stepSeconds: g.stepSeconds[0], peakRssMiB: g.peakRssKiB / 1024, adapter: g.adapter ?? 'unknown adapter' };
  } catch (e) {
    webgpu = { absent: ((e as Error).message.split('\n').find((l) => /webgpu|adapter/i.test(l)) ?? 'no adapter').slice(0, 200) };
  }
  const kernelTotal = kernels.filter((k) => !k.name.endsWith('__op')).reduce((s, k) => s + k.ms, 0);
  return {
    steps, rounds,
    wasm: { stepSeconds: stats(w.step), peakRssMiB: stats(w.rss.map((k) => k / 1024)) },
    torch: { stepSeconds: stats(p.step), peakRssMiB: stats(p.rss.map((k) => k / 1024)) },
    torch1: { stepSeconds: stats(p1.step), peakRssMiB: stats(p1.rss.map((k) => k / 1024)) },
    loadAverageAtStart: Math.round(loadAtStart * 100) / 100,
    maxLoad: MAX_LOAD,
    cpu: { stepSeconds: stats(c.stepSeconds), peakRssMiB: c.peakRssKiB / 1024 },
    webgpu,
    ratioWasmOverTorch: ratioOrRefusal(perRound, loadAtStart),
    ratioWasmOverTorch1: ratioOrRefusal(perRound1, loadAtStart),
    wasmKernels: kernels.filter((k) => !k.name.endsWith('__op')).slice(0, 10).map((k) => ({ ...k, share: k.ms / kernelTotal })),
    wasmKernelTotalMs: kernelTotal,
  };
}

/** "llvmpipe-... (software, Dawn OpenGL ES, compatibility)" out of skipgraph's adapter line. */
function shortAdapter(line: string): string {
  const device = /device ([^,]+)/.exec(line)?.[1]?.replace(/-+$/, '') ?? 'adapter';
  const kind = /\(([^)]*)\)\s*$/.exec(line)?.[1];
  return kind === undefined ? device : `${device}: ${kind}`;
}

/** Sections 4 (throughput) and 5 (peak memory); `torch` is the machine's "torch torchvision" versions. */
export function trainMarkdown(t: TrainResult, torch: string): string[] {
  const out = ['## 4. Training throughput, ResNet-18 (batch 32, 32x32x3, 10 classes, SGD)', '',
    '`architectures/resnet18.yaml` with `--set input.height=32 input.width=32 classes=10`, skipgraph\'s composed',
    'kernels; one step is forward, loss, backward and the SGD update, timed to the loss value being read.',
    `Each measurement is a fresh process: 1 warm-up step, then ${t.steps} timed steps; ${t.rounds} round(s) of`,
    'wasm then PyTorch (torchvision resnet18(num_classes=10), `torch.set_num_threads(2)`). The cpu backend is',
    'one process (warm-up + 1 step), not interleaved: it is an order of magnitude slower; so is webgpu on a',
    'software adapter (llvmpipe here: no GPU), measured the same way. Stock TF.js cannot train on wasm (no',
    'Conv2DBackpropFilter); stock cpu took 122 s per step (issue 6), too slow to rerun each time.', '',
    '| runtime | s per step, median (min .. max, n) | images/s | peak RSS MiB (VmHWM of the process) |', '| --- | --- | ---: | --- |',
    `| skipgraph, wasm (XNNPACK, SIMD, 1 thread) | ${spread(t.wasm.stepSeconds)} | ${f(32 / t.wasm.stepSeconds.median, 1)} | ${spread(t.wasm.peakRssMiB, 0)} |`,
    `| skipgraph, cpu (plain JS) | ${spread(t.cpu.stepSeconds)} | ${f(32 / t.cpu.stepSeconds.median, 1)} | ${f(t.cpu.peakRssMiB, 0)} |`,
    t.webgpu === undefined ? '' : 'stepSeconds' in t.webgpu
      ? `| skipgraph, webgpu (forced; ${shortAdapter(t.webgpu.adapter)}) | ${f(t.webgpu.stepSeconds)} (n=1) | ${f(32 / t.webgpu.stepSeconds, 1)} | ${f(t.webgpu.peakRssMiB, 0)} |`
      : `| skipgraph, webgpu | not measured: ${t.webgpu.absent} | | |`,
    `| PyTorch ${torch.split(' ')[0]}, 2 threads | ${spread(t.torch.stepSeconds)} | ${f(32 / t.torch.stepSeconds.median, 1)} | ${spread(t.torch.peakRssMiB, 0)} |`,
    ...(t.torch1 ? [`| PyTorch ${torch.split(' ')[0]}, 1 thread (as wasm) | ${spread(t.torch1.stepSeconds)} | ${f(32 / t.torch1.stepSeconds.median, 1)} | ${spread(t.torch1.peakRssMiB, 0)} |`] : []),
    `| **ratio wasm / PyTorch 2 threads** (per round) | ${ratioText(t.ratioWasmOverTorch, t)} | | |`,
    ...(t.ratioWasmOverTorch1 ? [`| **ratio wasm / PyTorch 1 thread** (per round) | ${ratioText(t.ratioWasmOverTorch1, t)} | | |`] : []), '',
    t.loadAverageAtStart === undefined ? 'These figures predate the load check (load average at the start not recorded).' : `Load average (1 min) at the start of this case: ${t.loadAverageAtStart}; ratios are reported only at or below ${t.maxLoad ?? MAX_LOAD} (BENCH_MAX_LOAD).`, '',
    `Top kernels of one wasm step under \`tf.profile\` (${f(t.wasmKernelTotalMs, 0)} ms of kernel time in all; op wrappers`,
    '(`*__op`) left out, as their kernels are counted):', '',
    '| kernel | calls | ms | share |', '| --- | ---: | ---: | ---: |'];
  for (const k of t.wasmKernels) out.push(`| ${k.name} | ${k.count} | ${f(k.ms, 1)} | ${f(k.share * 100, 1)}% |`);
  out.push('## 5. Peak memory of a training step', '',
    'VmHWM of each process above (compile, build, warm-up and the timed steps): skipgraph on wasm',
    `${f(t.wasm.peakRssMiB.median, 0)} MiB against PyTorch ${f(t.torch.peakRssMiB.median, 0)} MiB (ratio ${f(t.wasm.peakRssMiB.median / t.torch.peakRssMiB.median)}).`, '');
  return out;
}

// ---------------------------------------------------------------- overhead: emitted vs hand-written

export function benchOverhead({ quick }: BenchContext): Overhead {
  const r = tsChild<OverheadChild>('overhead_child.ts', ['--backend', 'wasm', '--rounds', String(quick ? 3 : 16), '--per', '3']);
  return {
    backend: r.backend, params: r.params,
    forward: { emitted: stats(r.forward.emitted), hand: stats(r.forward.hand), ratio: stats(ratios(r.forward.emitted, r.forward.hand)) },
    step: { emitted: stats(r.step.emitted), hand: stats(r.step.hand), ratio: stats(ratios(r.step.emitted, r.step.hand)) },
  };
}

export function overheadMarkdown(o: Overhead): string[] {
  return ['## 2. Runtime overhead: emitted model against a hand-written one', '',
    '`bench/handwritten.ts` builds ResNet-18 with `tf.layers` directly, with the padding skipgraph emits',
    `(explicit zero pad + valid for stride-2 convs, -inf pad before the stem max-pool); ${o.params.toLocaleString('en')} parameters`,
    'in both. Same process, same backend (wasm), batch 32, 32x32; order alternating each round; each figure is the mean of 3 consecutive runs of one model (single wasm steps vary by +-25%).', '',
    '| measure | emitted s | hand-written s | ratio emitted / hand (per round) |', '| --- | --- | --- | --- |',
    `| forward (predict) | ${spread(o.forward.emitted, 3)} | ${spread(o.forward.hand, 3)} | ${spread(o.forward.ratio, 3)} |`,
    `| training step | ${spread(o.step.emitted, 3)} | ${spread(o.step.hand, 3)} | ${spread(o.step.ratio, 3)} |`, ''];
}

// ---------------------------------------------------------------- fold: inference folding

export function benchFold({ quick, log }: BenchContext): FoldRow[] {
  const rounds = quick ? 3 : 10;
  // The training-size batch and the deployment case (one ImageNet-size image).
  return [['32', '32'], ['224', '1']].map(([size, batch]) => {
    const r = tsChild<FoldChild>('fold_child.ts', ['--backend', 'wasm', '--rounds', String(rounds), '--size', size, '--batch', batch]);
    log(`fold ${size}x${size} batch ${batch}: plain ${stats(r.plain).median.toFixed(3)} s, folded ${stats(r.folded).median.toFixed(3)} s`);
    return {
      backend: r.backend, size: r.size, batch: r.batch, maxRelDiff: r.maxRelDiff, params: r.params, foldedConvs: r.foldedConvs,
      kernelsPerPredict: r.kernelsPerPredict, kernelMs: r.kernelMs,
      plain: stats(r.plain), folded: stats(r.folded), speedup: stats(ratios(r.plain, r.folded)),
    };
  });
}

export function foldMarkdown(rows: FoldRow[]): string[] {
  const out = ['## 3. Inference folding: folded against plain emission', '',
    '`foldForInference` (`skipgraph fold`): each batch norm folded into the conv before it, each relu that',
    'follows fused into the conv kernel (TF.js fused conv + bias + relu). ResNet-18 with random weights and',
    'random batch-norm statistics (mean, beta in [-0.5, 0.5), gamma in [0.5, 1.5), variance in [0.5, 2)),',
    'same process, same backend (wasm), `predict` timed to the output read; order alternating each round.', '',
    '| input, batch | plain s | folded s | speed-up plain / folded (per round) | kernels per predict (plain -> folded) | max output difference (relative) |',
    '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    out.push(`| ${r.size}x${r.size}, ${r.batch} | ${spread(r.plain, 3)} | ${spread(r.folded, 3)} | ${spread(r.speedup, 3)} | ${r.kernelsPerPredict.plain} -> ${r.kernelsPerPredict.folded} | ${r.maxRelDiff.toExponential(1)} |`);
  }
  const small = rows.find((r) => r.size === 32)!;
  if (small.kernelMs) {
    out.push('', 'Kernel time of one plain predict (32x32, batch 32) under `tf.profile`, by kernel:', '',
      '| kernel | ms | share |', '| --- | ---: | ---: |');
    const total = small.kernelMs.reduce((n, k) => n + k.ms, 0);
    for (const k of small.kernelMs) out.push(`| ${k.name} | ${f(k.ms, 1)} | ${f((k.ms / total) * 100, 1)}% |`);
  }
  out.push('');
  return out;
}

// ---------------------------------------------------------------- sweep

export function benchSweep({ log }: BenchContext): SweepResult {
  log(`sweep: 1,000 resnet50 variants in process (bench/sweep_child.ts); load ${loadavg()[0].toFixed(2)}`);
  return { ...tsChild<Omit<SweepResult, 'loadAverageAtStart'>>('sweep_child.ts', []), loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100 };
}

export function sweepMarkdown(s: SweepResult): string[] {
  return ['## 7. Sweeps (issue 15)', '',
    `\`sweep()\` over a 10 x 10 x 10 grid of ResNet-50 variants (stage 1 and 3 depths, stage 4 width; \`--max-macs 4.5G\`), after a warm-up, in process (bench/sweep_child.ts), load average ${s.loadAverageAtStart} at the start:`, '',
    '| variants | kept | seconds | per variant | target |', '| --- | --- | --- | --- | --- |',
    `| ${s.variants} | ${s.kept} | ${s.seconds.toFixed(2)} | ${s.perVariantMs.toFixed(2)} ms | 1,000 in under 3 s: ${s.seconds < 3 ? 'met' : 'not met'} |`, ''];
}
