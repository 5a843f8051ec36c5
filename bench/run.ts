/**
 * skipgraph's benchmark harness (GitHub issue 6). Not a test: it measures, never fails on a figure.
 *
 *   npm run bench [-- --only compile|cli|cold-start|profile|train|overhead|fold|torch|sweep|torch-epoch] [-- --quick] [-- --report]
 *
 * --report only regenerates docs/benchmarks.md from bench/results/latest.json and bench/notes.md.
 *
 * Every case runs a warm-up, then several repetitions; the tables show the median and the
 * min..max spread. Comparisons (skipgraph vs PyTorch, emitted vs hand-written) are ratios measured
 * in the same run, interleaved A, B, A, B, so drift in machine load hits both sides.
 * Writes bench/results/latest.json (merged with the previous file under --only) and regenerates
 * docs/benchmarks.md from it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { compileSource } from '../src/compiler/index.js';
import { arch, loadRefusal, MAX_LOAD, ROOT } from './common.js';
import { benchTorch, torchMarkdown } from './torch_case.js';
import { benchTorchEpoch, torchEpochMarkdown } from './torch_epoch.js';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'; // Debian's torch lives there
const CASES = ['compile', 'cli', 'cold-start', 'profile', 'train', 'overhead', 'fold', 'torch', 'sweep', 'torch-epoch'] as const;
type Case = (typeof CASES)[number];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] as Case) : undefined;
if (only !== undefined && !CASES.includes(only)) throw new Error(`--only takes one of ${CASES.join(', ')}`);
const wanted = (c: Case): boolean => only === undefined || only === c;

// ---------------------------------------------------------------- statistics

interface Stats { median: number; min: number; max: number; n: number }
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}
const ratios = (a: number[], b: number[]): number[] => a.map((v, i) => v / b[i]);

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------- machine

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? totalmem() / 1024);
  const pkg = (name: string): string => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  let torch = 'not found';
  try {
    torch = execFileSync(PY, ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'], { encoding: 'utf8' }).trim();
  } catch { /* reported as not found */ }
  return {
    cores: cpus().length,
    cpuModel: model,
    memoryGiB: Math.round((memKiB / 2 ** 20) * 10) / 10,
    node: process.version,
    tfjs: pkg('@tensorflow/tfjs'),
    tfjsWasm: pkg('@tensorflow/tfjs-backend-wasm'),
    torch,
    loadAverageStart: loadavg().map((v) => Math.round(v * 100) / 100),
    loadAverageEnd: [] as number[],
    date: new Date().toISOString(),
    quick,
  };
}

// ---------------------------------------------------------------- 1. compile, in process

function stackYaml(blocks: number): string {
  return [
    `name: stack${blocks}`,
    'input: { height: 8, width: 8, channels: 3 }',
    'classes: 10',
    'shortcut: projection',
    'stem:',
    '  - { op: conv, filters: 8, kernel: 3 }',
    '  - { op: bn }',
    '  - { op: relu }',
    'stages:',
    `  - { block: basic, channels: 8, blocks: ${blocks}, stride: 1 }`,
    'head:',
    '  - { op: global_avg_pool }',
    '  - { op: dense, units: $classes }',
    '',
  ].join('\n');
}

function timeCompile(text: string, reps: number, file?: string): { ms: number[]; nodes: number } {
  const once = (): number => {
    const r = compileSource(text, file === undefined ? {} : { file });
    if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    return r.graph.nodes.length;
  };
  // Warm-up: at least 3 compiles and 0.5 s (at most 50 compiles), so that V8 has optimised the
  // hot functions before timing; two compiles left resnet18 (timed first) slower than resnet152.
  const nodes = once();
  const start = performance.now();
  for (let n = 1; n < 50 && (n < 3 || performance.now() - start < 500); n++) once();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  return { ms, nodes };
}

function benchCompile() {
  const rows: { name: string; blocks: number; nodes: number; ms: Stats; msPerBlock: number }[] = [];
  const named: [string, number][] = [['resnet18', 8], ['resnet50', 16], ['resnet152', 50]];
  for (const [name, blocks] of named) {
    const { ms, nodes } = timeCompile(readFileSync(arch(name), 'utf8'), quick ? 5 : 30, arch(name));
    const s = stats(ms);
    rows.push({ name, blocks, nodes, ms: s, msPerBlock: s.median / blocks });
    log(`compile ${name}: ${s.median.toFixed(2)} ms`);
  }
  for (const blocks of [10, 100, 1000, 10000]) {
    const reps = quick ? 3 : blocks >= 10000 ? 7 : blocks >= 1000 ? 15 : 30;
    const { ms, nodes } = timeCompile(stackYaml(blocks), reps);
    const s = stats(ms);
    rows.push({ name: `stack of ${blocks} basic blocks (8x8x3, 8 channels)`, blocks, nodes, ms: s, msPerBlock: s.median / blocks });
    log(`compile ${blocks} blocks: ${s.median.toFixed(1)} ms`);
  }
  return rows;
}

// ---------------------------------------------------------------- 1b. whole CLI vs PyTorch

function wall(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}

function buildDist(): void {
  log('building dist (npx tsc -p tsconfig.build.json)');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

const CLI = ['bin/skipgraph.js', 'compile', 'architectures/resnet152.yaml', '--format', 'json'];

function benchCli() {
  buildDist();
  const reps = quick ? 2 : 5;
  const t = { cli: [] as number[], torch: [] as number[], nodeEmpty: [] as number[] };
  wall('node', CLI); wall(PY, ['bench/torch_ref.py', 'shapes']); // warm-up: file cache
  for (let i = 0; i < reps; i++) {
    t.cli.push(wall('node', CLI));
    t.torch.push(wall(PY, ['bench/torch_ref.py', 'shapes']));
    t.nodeEmpty.push(wall('node', ['-e', '']));
    log(`cli round ${i + 1}/${reps}: skipgraph ${t.cli.at(-1)!.toFixed(2)} s, torch ${t.torch.at(-1)!.toFixed(2)} s`);
  }
  return { seconds: { cli: stats(t.cli), torch: stats(t.torch), nodeEmpty: stats(t.nodeEmpty) }, ratioTorchOverCli: stats(ratios(t.torch, t.cli)), raw: t };
}

// ---------------------------------------------------------------- 1b'. CLI cold start against Node's own

/** A command a user types first, and the start of Node itself (issue 25: aim for at most 1.6x). */
const COLD = ['bin/skipgraph.js', 'compile', 'architectures/resnet18.yaml'];

function benchColdStart() {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) buildDist();
  // As the package ships it: dist/cli-bundle (bin/skipgraph.js runs it while it is newer than dist/cli).
  execFileSync('node', ['scripts/bundle-cli.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const pairs = quick ? 3 : 9;
  const t = { cli: [] as number[], nodeEmpty: [] as number[] };
  wall('node', COLD); wall('node', ['-e', '']); // warm-up: file cache (and Node 22's compile cache)
  const loadAtStart = loadavg()[0];
  for (let i = 0; i < pairs; i++) {
    t.cli.push(wall('node', COLD));
    t.nodeEmpty.push(wall('node', ['-e', '']));
  }
  rmSync(join(ROOT, 'dist/cli-bundle'), { recursive: true, force: true }); // the clone runs dist/cli itself
  const result = { command: `node ${COLD.join(' ')} (dist/cli-bundle, as packed)`, seconds: { cli: stats(t.cli), nodeEmpty: stats(t.nodeEmpty) }, ratio: stats(ratios(t.cli, t.nodeEmpty)), load: { start: loadAtStart, end: loadavg()[0] }, raw: t };
  log(`cold start: skipgraph compile resnet18 ${result.seconds.cli.median.toFixed(3)} s, node -e '' ${result.seconds.nodeEmpty.median.toFixed(3)} s, ratio ${result.ratio.median.toFixed(2)}x (median of ${pairs} interleaved pairs); load average ${loadAtStart.toFixed(2)} -> ${result.load.end.toFixed(2)}`);
  return result;
}

// ---------------------------------------------------------------- 1c. profile of the CLI

interface ProfNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }

function where(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const d = /\/dist\/([^/]+)\//.exec(url);
  if (d) return `skipgraph ${d[1]}`;
  if (url.startsWith('node:') || url === '') return url === '' ? '(native/VM)' : 'node internals';
  return url.replace(/^file:\/\//, '').replace(ROOT, '.');
}

function profileOf(args: string[], runs: number, tag: string, inspector = false) {
  const dir = join(ROOT, '.bench-out', `prof-${tag}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const self = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const how = inspector ? [...args, join(dir, `run${i}.cpuprofile`)] : ['--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${dir}`, ...args];
    const r = spawnSync('node', how, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`profile of ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, k) => {
      const n = byId.get(id)!;
      const us = p.timeDeltas[k] ?? 0;
      const fn = n.callFrame.functionName || '(anonymous)';
      if (fn === '(idle)') return;
      const w = where(n.callFrame.url);
      const key = `${fn} — ${w}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + us);
      byPkg.set(w, (byPkg.get(w) ?? 0) + us);
      total += us;
    });
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, ms: us / 1000 / runs, share: us / total }));
  return { command: args.join(' '), perCompileMs: 0, runs, totalMs: total / 1000 / runs, functions: top(self, 15), packages: top(byPkg, 12) };
}

function benchProfile() {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) buildDist();
  const cli = profileOf(CLI, quick ? 1 : 3, 'cli');
  const warm = profileOf(['--import', 'tsx', 'bench/compile_loop.ts', 'resnet152', quick ? '50' : '200'], 1, 'warm', true);
  warm.command = `compileSource(resnet152) x ${quick ? 50 : 200}, warm, under node:inspector's profiler (bench/compile_loop.ts)`;
  warm.perCompileMs = warm.totalMs / (quick ? 50 : 200);
  return { cli, warm };
}

// ---------------------------------------------------------------- 2 + 4. training step, peak RSS

function child(cmd: string, args: string[]): any {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.replace(/^RESULT /, ''));
}
const tsChild = (script: string, args: string[]): any => child('node', ['--import', 'tsx', `bench/${script}`, ...args]);

/** The ratio, or why it is not reported (the machine was busy at the start: bench/common.ts). */
function ratioOrRefusal(perRound: number[], loadAtStart: number): Stats | { refused: string } {
  const refused = loadRefusal(loadAtStart);
  return refused ? { refused } : stats(perRound);
}

/** A ratio, its refusal, or (for results measured before the load gate existed) why none is shown. */
const ratioText = (r: any, t?: any) =>
  t && t.loadAverageAtStart === undefined
    ? `not reported: measured before bench/run.ts checked the load (see "Against PyTorch" below)`
    : r && 'refused' in r ? r.refused : spread(r);

function benchTrain() {
  const rounds = quick ? 1 : 3;
  const steps = quick ? 2 : 3;
  const loadAtStart = loadavg()[0];
  log(`train: load average ${loadavg().map((v) => v.toFixed(2)).join(', ')} at start (ratios reported only at or below ${MAX_LOAD})`);
  const w = { step: [] as number[], rss: [] as number[] };
  const p = { step: [] as number[], rss: [] as number[] };
  const p1 = { step: [] as number[], rss: [] as number[] };
  const perRound: number[] = [];
  const perRound1: number[] = [];
  let kernels: { name: string; ms: number; count: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = tsChild('train_child.ts', ['--backend', 'wasm', '--steps', String(steps), ...(i === 0 ? ['--profile'] : [])]);
    const b = child(PY, ['bench/torch_ref.py', 'train', String(steps), '2']);
    const b1 = child(PY, ['bench/torch_ref.py', 'train', String(steps), '1']);
    if (i === 0) kernels = a.kernels;
    w.step.push(...a.stepSeconds); w.rss.push(a.peakRssKiB);
    p.step.push(...b.stepSeconds); p.rss.push(b.peakRssKiB);
    p1.step.push(...b1.stepSeconds); p1.rss.push(b1.peakRssKiB);
    perRound.push(stats(a.stepSeconds).median / stats(b.stepSeconds).median);
    perRound1.push(stats(a.stepSeconds).median / stats(b1.stepSeconds).median);
    log(`train round ${i + 1}/${rounds}: wasm ${stats(a.stepSeconds).median.toFixed(2)} s/step, torch ${stats(b.stepSeconds).median.toFixed(2)} s/step (2 threads), ${stats(b1.stepSeconds).median.toFixed(2)} s/step (1 thread); load ${loadavg()[0].toFixed(2)}`);
  }
  log('train on cpu (one child: warm-up + 1 step; slow)');
  const c = tsChild('train_child.ts', ['--backend', 'cpu', '--steps', '1']);
  // WebGPU where an adapter can be had (here: Mesa llvmpipe, a software adapter, forced).
  let webgpu: { stepSeconds: number; peakRssMiB: number; adapter: string } | { absent: string };
  try {
    log('train on webgpu (one child: warm-up + 1 step)');
    const g = tsChild('train_child.ts', ['--backend', 'webgpu', '--steps', '1']);
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

// ---------------------------------------------------------------- 3. runtime overhead

function benchOverhead() {
  const r = tsChild('overhead_child.ts', ['--backend', 'wasm', '--rounds', String(quick ? 3 : 16), '--per', '3']);
  return {
    backend: r.backend, params: r.params,
    forward: { emitted: stats(r.forward.emitted), hand: stats(r.forward.hand), ratio: stats(ratios(r.forward.emitted, r.forward.hand)) },
    step: { emitted: stats(r.step.emitted), hand: stats(r.step.hand), ratio: stats(ratios(r.step.emitted, r.step.hand)) },
  };
}

// ---------------------------------------------------------------- 3. inference folding

function benchFold() {
  const rounds = quick ? 3 : 10;
  // The training-size batch and the deployment case (one ImageNet-size image).
  return [['32', '32'], ['224', '1']].map(([size, batch]) => {
    const r = tsChild('fold_child.ts', ['--backend', 'wasm', '--rounds', String(rounds), '--size', size, '--batch', batch]);
    log(`fold ${size}x${size} batch ${batch}: plain ${stats(r.plain).median.toFixed(3)} s, folded ${stats(r.folded).median.toFixed(3)} s`);
    return {
      backend: r.backend, size: r.size, batch: r.batch, maxRelDiff: r.maxRelDiff, params: r.params, foldedConvs: r.foldedConvs,
      kernelsPerPredict: r.kernelsPerPredict, kernelMs: r.kernelMs,
      plain: stats(r.plain), folded: stats(r.folded), speedup: stats(ratios(r.plain, r.folded)),
    };
  });
}

// ---------------------------------------------------------------- report

const f = (x: number, d = 2): string => x.toFixed(d);
const spread = (s: Stats, d = 2, k = 1): string => `${f(s.median * k, d)} (${f(s.min * k, d)} .. ${f(s.max * k, d)}, n=${s.n})`;
const verdict = (ok: boolean): string => (ok ? '**met**' : '**not met**');

/** "llvmpipe-... (software, Dawn OpenGL ES, compatibility)" out of skipgraph's adapter line. */
function shortAdapter(line: string): string {
  const device = /device ([^,]+)/.exec(line)?.[1]?.replace(/-+$/, '') ?? 'adapter';
  const kind = /\(([^)]*)\)\s*$/.exec(line)?.[1];
  return kind === undefined ? device : `${device}: ${kind}`;
}

function markdown(R: any): string {
  const m = R.machine;
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts) from bench/results/latest.json. Do not edit by hand. -->',
    '',
    'Figures are medians with the spread (min .. max, n = repetitions) after a warm-up. Ratios',
    'are taken within one run, the two sides interleaved (A, B, A, B), and summarised the same way.',
    'No figure here is a pass/fail test.',
    '',
    '## Machine',
    '',
    `- ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB memory`,
    `- load average (1, 5, 15 min) at start ${m.loadAverageStart.join(', ')}, at end ${m.loadAverageEnd.join(', ')}: other jobs shared the machine`,
    `- Node ${m.node}; @tensorflow/tfjs ${m.tfjs}, tfjs-backend-wasm ${m.tfjsWasm}; PyTorch / torchvision ${m.torch} (Debian, \`torch.set_num_threads(2)\`)`,
    `- run ${m.date}${m.quick ? ' with `--quick` (fewer repetitions)' : ''}`,
    '',
  ];
  const T: string[] = ['## Targets (issue 6)', '', '| target | measured | verdict |', '| --- | --- | --- |'];
  if (R.compile) {
    const r152 = R.compile.find((r: any) => r.name === 'resnet152');
    const s10k = R.compile.find((r: any) => r.blocks === 10000 && r.name.startsWith('stack'));
    T.push(`| compile resnet152 < 5 ms (in process, warm) | ${f(r152.ms.median)} ms | ${verdict(r152.ms.median < 5)} |`);
    T.push(`| compile 10,000 blocks < 1 s | ${f(s10k.ms.median / 1000, 3)} s | ${verdict(s10k.ms.median < 1000)} |`);
  }
  if (R.train) T.push(`| ResNet-18 training step < 1 s on wasm (batch 32, 32x32) | ${f(R.train.wasm.stepSeconds.median)} s | ${verdict(R.train.wasm.stepSeconds.median < 1)} |`);
  if (R.fold) {
    const small = R.fold.find((r: any) => r.size === 32);
    T.push(`| folded / plain inference speed-up >= 1.3x (wasm, batch 32, 32x32), outputs within 1e-4 | ${f(small.speedup.median, 3)}x, max difference ${small.maxRelDiff.toExponential(1)} | ${verdict(small.speedup.median >= 1.3 && small.maxRelDiff < 1e-4)} |`);
  }
  if (R.overhead) {
    T.push(`| emitted / hand-written forward <= 1.02 (wasm) | ${f(R.overhead.forward.ratio.median, 3)} | ${verdict(R.overhead.forward.ratio.median <= 1.02)} |`);
    T.push(`| emitted / hand-written training step <= 1.02 (wasm) | ${f(R.overhead.step.ratio.median, 3)} | ${verdict(R.overhead.step.ratio.median <= 1.02)} |`);
  }
  out.push(...T, '');

  if (R.compile) {
    out.push('## 1. Compile speed (in process, warm)', '',
      '`compileSource` on the YAML text (parse, schema check, expansion, shape inference, counts,',
      'limits), after a warm-up of the same text (at least 3 compiles and 0.5 s, at most 50). Synthetic stacks: 8x8x3 input, a 3x3',
      'conv stem with 8 channels, one stage of N basic blocks with 8 channels.', '',
      '| architecture | blocks | nodes | ms, median (min .. max, n) | us per block |', '| --- | ---: | ---: | --- | ---: |');
    for (const r of R.compile) out.push(`| ${r.name} | ${r.blocks} | ${r.nodes} | ${spread(r.ms)} | ${f(r.msPerBlock * 1000, 1)} |`);
    out.push('');
  }
  if (R.cli) {
    const c = R.cli;
    out.push('## 1b. Whole CLI against PyTorch', '',
      '`node bin/skipgraph.js compile architectures/resnet152.yaml --format json` (Node start included, dist built',
      'with `npx tsc -p tsconfig.build.json`) against `bench/torch_ref.py shapes`: Python builds torchvision\'s',
      'resnet152 and records every module\'s output shape with forward hooks in one 224x224 forward pass',
      '(batch 1, 2 threads), interpreter start and `import torch` included. Interleaved, one of each per round.', '',
      '| job | wall s, median (min .. max, n) |', '| --- | --- |',
      `| skipgraph CLI compile resnet152 --format json | ${spread(c.seconds.cli, 3)} |`,
      `| PyTorch: build resnet152 + hooked forward | ${spread(c.seconds.torch, 3)} |`,
      `| \`node -e ''\` (Node start alone, for scale) | ${spread(c.seconds.nodeEmpty, 3)} |`,
      `| **ratio PyTorch / skipgraph** (per round) | ${spread(c.ratioTorchOverCli, 1)} |`, '');
  }
  if (R.coldStart) {
    const c = R.coldStart;
    out.push("## 1b'. CLI cold start against Node's own", '',
      `\`${c.command}\` against \`node -e ''\`, interleaved, one of each per pair (goal: at most 1.6x).`,
      `Load average ${f(c.load.start, 2)} at the start, ${f(c.load.end, 2)} at the end.`, '',
      '| job | wall s, median (min .. max, n) |', '| --- | --- |',
      `| skipgraph compile resnet18 | ${spread(c.seconds.cli, 3)} |`,
      `| \`node -e ''\` | ${spread(c.seconds.nodeEmpty, 3)} |`,
      `| **ratio skipgraph / node** (per pair) | ${spread(c.ratio, 2)} |`, '');
  }
  if (R.profile) {
    const table = (title: string, p: any): void => {
      out.push(`${p.perCompileMs ? p.command : `\`node --cpu-prof --cpu-prof-interval 100 ${p.command}\``}, ${p.runs} run(s); ${f(p.totalMs, 0)} ms of samples per run${p.perCompileMs ? ` (${f(p.perCompileMs)} ms per compile, profiler on)` : ''}.`,
        'Self time (time in the function itself, not its callees).', '',
        `| ${title}: by package / part | ms per run | share |`, '| --- | ---: | ---: |');
      for (const r of p.packages) out.push(`| ${r.name} | ${f(r.ms, 1)} | ${f(r.share * 100, 1)}% |`);
      out.push('', `| ${title}: top functions by self time | ms per run | share |`, '| --- | ---: | ---: |');
      for (const r of p.functions) out.push(`| \`${r.name.replace(/\|/g, '\\|')}\` | ${f(r.ms, 1)} | ${f(r.share * 100, 1)}% |`);
      out.push('');
    };
    out.push('## 1c. Where compile time goes', '', '### The whole CLI (cold: Node start, module loading, one compile, JSON output)', '');
    table('CLI', R.profile.cli);
    out.push('### Warm, in process (the same compile repeated; sources run through tsx, so the paths are ./src)', '');
    table('warm', R.profile.warm);
  }
  if (R.overhead) {
    const o = R.overhead;
    out.push('## 2. Runtime overhead: emitted model against a hand-written one', '',
      '`bench/handwritten.ts` builds ResNet-18 with `tf.layers` directly, with the padding skipgraph emits',
      `(explicit zero pad + valid for stride-2 convs, -inf pad before the stem max-pool); ${o.params.toLocaleString('en')} parameters`,
      'in both. Same process, same backend (wasm), batch 32, 32x32; order alternating each round; each figure is the mean of 3 consecutive runs of one model (single wasm steps vary by +-25%).', '',
      '| measure | emitted s | hand-written s | ratio emitted / hand (per round) |', '| --- | --- | --- | --- |',
      `| forward (predict) | ${spread(o.forward.emitted, 3)} | ${spread(o.forward.hand, 3)} | ${spread(o.forward.ratio, 3)} |`,
      `| training step | ${spread(o.step.emitted, 3)} | ${spread(o.step.hand, 3)} | ${spread(o.step.ratio, 3)} |`, '');
  }
  if (R.fold) {
    out.push('## 3. Inference folding: folded against plain emission', '',
      '`foldForInference` (`skipgraph fold`): each batch norm folded into the conv before it, each relu that',
      'follows fused into the conv kernel (TF.js fused conv + bias + relu). ResNet-18 with random weights and',
      'random batch-norm statistics (mean, beta in [-0.5, 0.5), gamma in [0.5, 1.5), variance in [0.5, 2)),',
      'same process, same backend (wasm), `predict` timed to the output read; order alternating each round.', '',
      '| input, batch | plain s | folded s | speed-up plain / folded (per round) | kernels per predict (plain -> folded) | max output difference (relative) |',
      '| --- | --- | --- | --- | --- | --- |');
    for (const r of R.fold) {
      out.push(`| ${r.size}x${r.size}, ${r.batch} | ${spread(r.plain, 3)} | ${spread(r.folded, 3)} | ${spread(r.speedup, 3)} | ${r.kernelsPerPredict.plain} -> ${r.kernelsPerPredict.folded} | ${r.maxRelDiff.toExponential(1)} |`);
    }
    const small = R.fold.find((r: any) => r.size === 32);
    if (small.kernelMs) {
      out.push('', 'Kernel time of one plain predict (32x32, batch 32) under `tf.profile`, by kernel:', '',
        '| kernel | ms | share |', '| --- | ---: | ---: |');
      const total = small.kernelMs.reduce((n: number, k: any) => n + k.ms, 0);
      for (const k of small.kernelMs) out.push(`| ${k.name} | ${f(k.ms, 1)} | ${f((k.ms / total) * 100, 1)}% |`);
    }
    out.push('');
  }
  if (R.train) {
    const t = R.train;
    out.push('## 4. Training throughput, ResNet-18 (batch 32, 32x32x3, 10 classes, SGD)', '',
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
      `| PyTorch ${m.torch.split(' ')[0]}, 2 threads | ${spread(t.torch.stepSeconds)} | ${f(32 / t.torch.stepSeconds.median, 1)} | ${spread(t.torch.peakRssMiB, 0)} |`,
      ...(t.torch1 ? [`| PyTorch ${m.torch.split(' ')[0]}, 1 thread (as wasm) | ${spread(t.torch1.stepSeconds)} | ${f(32 / t.torch1.stepSeconds.median, 1)} | ${spread(t.torch1.peakRssMiB, 0)} |`] : []),
      `| **ratio wasm / PyTorch 2 threads** (per round) | ${ratioText(t.ratioWasmOverTorch, t)} | | |`,
      ...(t.ratioWasmOverTorch1 ? [`| **ratio wasm / PyTorch 1 thread** (per round) | ${ratioText(t.ratioWasmOverTorch1, t)} | | |`] : []), '',
      t.loadAverageAtStart === undefined ? 'These figures predate the load check (load average at the start not recorded).' : `Load average (1 min) at the start of this case: ${t.loadAverageAtStart}; ratios are reported only at or below ${t.maxLoad ?? MAX_LOAD} (BENCH_MAX_LOAD).`, '',
      `Top kernels of one wasm step under \`tf.profile\` (${f(t.wasmKernelTotalMs, 0)} ms of kernel time in all; op wrappers`,
      '(`*__op`) left out, as their kernels are counted):', '',
      '| kernel | calls | ms | share |', '| --- | ---: | ---: | ---: |');
    for (const k of t.wasmKernels) out.push(`| ${k.name} | ${k.count} | ${f(k.ms, 1)} | ${f(k.share * 100, 1)}% |`);
  }
  if (R.train) {
    const t = R.train;
    out.push('## 5. Peak memory of a training step', '',
      'VmHWM of each process above (compile, build, warm-up and the timed steps): skipgraph on wasm',
      `${f(t.wasm.peakRssMiB.median, 0)} MiB against PyTorch ${f(t.torch.peakRssMiB.median, 0)} MiB (ratio ${f(t.wasm.peakRssMiB.median / t.torch.peakRssMiB.median)}).`, '');
  }
  if (R.torch) out.push(...torchMarkdown(R.torch));
  if (R.torchEpoch) out.push(...torchEpochMarkdown(R.torchEpoch));
  if (R.sweep) {
    const s = R.sweep;
    out.push('## 7. Sweeps (issue 15)', '',
      `\`sweep()\` over a 10 x 10 x 10 grid of ResNet-50 variants (stage 1 and 3 depths, stage 4 width; \`--max-macs 4.5G\`), after a warm-up, in process (bench/sweep_child.ts), load average ${s.loadAverageAtStart} at the start:`, '',
      '| variants | kept | seconds | per variant | target |', '| --- | --- | --- | --- | --- |',
      `| ${s.variants} | ${s.kept} | ${s.seconds.toFixed(2)} | ${s.perVariantMs.toFixed(2)} ms | 1,000 in under 3 s: ${s.seconds < 3 ? 'met' : 'not met'} |`, '');
  }
  if (R.notes) out.push('## Reading the figures', '', ...R.notes, '');
  return out.join('\n');
}

// ---------------------------------------------------------------- main

const resultsDir = join(ROOT, 'bench', 'results');
const latest = join(resultsDir, 'latest.json');
const reportOnly = argv.includes('--report'); // regenerate docs/benchmarks.md from latest.json, measure nothing
const R: any = (only !== undefined || reportOnly) && existsSync(latest) ? JSON.parse(readFileSync(latest, 'utf8')) : {};
if (!reportOnly) {
  R.machine = machine();
  if (wanted('compile')) R.compile = benchCompile();
  if (wanted('cli')) R.cli = benchCli();
  if (wanted('cold-start')) R.coldStart = benchColdStart();
  if (wanted('profile')) R.profile = benchProfile();
  if (wanted('train')) R.train = benchTrain();
  if (wanted('overhead')) R.overhead = benchOverhead();
  if (wanted('fold')) R.fold = benchFold();
  if (wanted('torch')) R.torch = benchTorch(quick, log);
  if (wanted('torch-epoch')) R.torchEpoch = benchTorchEpoch(quick, log);
  if (wanted('sweep')) {
    log(`sweep: 1,000 resnet50 variants in process (bench/sweep_child.ts); load ${loadavg()[0].toFixed(2)}`);
    R.sweep = { ...tsChild('sweep_child.ts', []), loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100 };
  }
  R.machine.loadAverageEnd = loadavg().map((v) => Math.round(v * 100) / 100);
}
const notesFile = join(ROOT, 'bench', 'notes.md');
R.notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trimEnd().split('\n') : undefined;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(latest, `${JSON.stringify(R, null, 2)}\n`);
writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), markdown(R));
log(`wrote ${latest} and docs/benchmarks.md`);
