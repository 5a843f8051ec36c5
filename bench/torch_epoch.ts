/**
 * The `torch-epoch` bench case (issue 26): one epoch-slice of `--recipe cifar-resnet` on an
 * image folder (PNGs written here), through `skipgraph train --engine torch` (emitted ResNet-18,
 * python/skipgraph_train.py: ImageFolder, DataLoader workers, the loop) against a plain script
 * that trains torchvision's resnet18 with torchvision's transforms and a DataLoader
 * (bench/torch_epoch_ref.py), interleaved round by round; the TF.js engine on wasm on the same
 * folder beside them. Images/s of the training loop (the engines' own epoch figure; the plain
 * script's loop time). Goal: the engine's time per image at most 1.05x the plain script's.
 *
 *   npm run bench -- --only torch-epoch [--quick]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { ROOT, loadRefusal } from './common.js';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SIZE = 32;
const CLASSES = 10;

/** DIR/train/<class>/*.png and DIR/val/<class>/*.png: `perClass` 40x40 images a class (resized to 32 by both). */
function writeFolder(dir: string, perClass: number): void {
  if (existsSync(join(dir, 'done'))) return;
  rmSync(dir, { recursive: true, force: true });
  for (const [split, n] of [['train', perClass], ['val', Math.max(1, perClass >> 3)]] as const)
    for (let c = 0; c < CLASSES; c++) {
      const d = join(dir, split, `class${c}`);
      mkdirSync(d, { recursive: true });
      for (let k = 0; k < n; k++) {
        const img = new PNG({ width: 40, height: 40 });
        for (let p = 0; p < 1600; p++) [0, 1, 2].forEach((ch) => (img.data[4 * p + ch] = (c * 25 + p * (ch + 1) + k * 13) % 256)), (img.data[4 * p + 3] = 255);
        writeFileSync(join(d, `${k}.png`), PNG.sync.write(img));
      }
    }
  writeFileSync(join(dir, 'done'), '');
}

function run(cmd: string, args: string[]): { stdout: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, SKIPGRAPH_PYTHON: PY } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${(r.stderr ?? '').slice(-2000)}`);
  return r;
}

/** One epoch through the CLI; its images/s from history.json (the training loop, evaluation excluded). */
function engineEpoch(engine: 'torch' | 'tfjs', data: string, out: string, batch: number, workers: number): number {
  rmSync(out, { recursive: true, force: true });
  const sets = [`input.height=${SIZE}`, `input.width=${SIZE}`, `classes=${CLASSES}`].flatMap((s) => ['--set', s]);
  const extra = engine === 'torch' ? ['--workers', String(workers), '--device', 'cpu'] : ['--backend', 'wasm'];
  run('node', ['--import', 'tsx', '-e', CLI, 'train', 'architectures/resnet18.yaml', ...sets, '--engine', engine, '--recipe', 'cifar-resnet', '--data', `imagefolder:${data}`, '--epochs', '1', '--batch', String(batch), '--no-progress', '--out', out, ...extra]);
  const h = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { history: { imagesPerSecond: number }[] };
  return h.history[0].imagesPerSecond;
}

/** The CLI from source (as bin/skipgraph.js runs dist/): its arguments after the script. */
const CLI = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(['node', 'skipgraph', ...process.argv.slice(1)]);";

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

export function benchTorchEpoch(quick: boolean, log: (s: string) => void) {
  const perClass = quick ? 8 : 128;
  const rounds = quick ? 1 : 3;
  const batch = 32;
  const workers = 2;
  const base = join(ROOT, '.bench-out', 'torch-epoch');
  const data = join(base, `data${perClass}`);
  writeFolder(data, perClass);
  const load = loadavg()[0];
  const engine: number[] = [];
  const plain: number[] = [];
  const wasm: number[] = [];
  for (let i = 0; i < rounds; i++) {
    engine.push(engineEpoch('torch', data, join(base, 'torch-run'), batch, workers));
    const ref = run(PY, ['bench/torch_epoch_ref.py', data, String(SIZE), String(batch), String(workers), '2']).stdout.split('\n').find((l) => l.startsWith('RESULT '))!;
    plain.push((JSON.parse(ref.slice(7)) as { imagesPerSecond: number }).imagesPerSecond);
    if (i === 0) wasm.push(engineEpoch('tfjs', data, join(base, 'tfjs-run'), batch, workers));
    log(`torch-epoch round ${i + 1}/${rounds}: --engine torch ${engine.at(-1)!.toFixed(1)} img/s, plain torchvision script ${plain.at(-1)!.toFixed(1)} img/s${i === 0 ? `, --engine tfjs (wasm) ${wasm[0].toFixed(1)} img/s` : ''}`);
  }
  const ratios = engine.map((e, i) => plain[i] / e); // time per image, engine over plain
  return { images: perClass * CLASSES, batch, workers, rounds, loadAverageAtStart: load, refused: loadRefusal(load), engine, plain, wasm, timePerImageRatio: median(ratios) };
}

/** The section of docs/benchmarks.md for this case. */
export function torchEpochMarkdown(t: ReturnType<typeof benchTorchEpoch>): string[] {
  const f = (x: number, d = 1) => x.toFixed(d);
  return [
    '## PyTorch engine: an epoch-slice on an image folder (issue 26)',
    '',
    `ResNet-18 at 32x32, 10 classes, \`--recipe cifar-resnet\` (batch ${t.batch}), ${t.images} PNGs, ${t.workers} DataLoader workers, CPU:`,
    '`skipgraph train --engine torch --data imagefolder:DIR` against bench/torch_epoch_ref.py (torchvision resnet18,',
    `torchvision transforms, a DataLoader), interleaved, ${t.rounds} round(s); the TF.js engine on wasm once.`,
    '',
    '| runtime | images/s (median) |',
    '| --- | ---: |',
    `| skipgraph --engine torch | ${f(median(t.engine))} |`,
    `| plain torchvision script | ${f(median(t.plain))} |`,
    `| skipgraph --engine tfjs (wasm) | ${f(median(t.wasm))} |`,
    `| **time per image, engine / plain** (goal <= 1.05) | ${t.refused ?? f(t.timePerImageRatio, 3)} |`,
    '',
  ];
}
