/**
 * The `families-targets` bench case (issue 24's closing table: the largest difference per target
 * for each shipped family). It runs bench/families_targets.py, which reaches every target through
 * the CLI only (torch: `export --target torch` loaded strict; onnx: `export --weights`, then
 * `infer`; tfjs: `weights import`, then `infer`) against torchvision's own model with every
 * parameter and buffer randomised, one file at a time, and keeps its rows. Not a timing: the
 * seconds are there to say what a run costs; the differences are the figures.
 *
 *   npm run bench -- --only families-targets      (about 10 min on 2 cores)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './common.js';
import { buildDist, loadNow, type BenchContext } from './harness.js';
import type { FamiliesTargets, FamilyTargetsRow } from './results.js';

const PYTHON = process.env.SKIPGRAPH_TORCH_PYTHON ?? '/usr/bin/python3';
const COMMAND = 'npm run build && /usr/bin/python3 bench/families_targets.py --out results.jsonl';

/** One JSON line of bench/families_targets.py, as it writes it. */
interface ScriptRow {
  file: string;
  model: string;
  size: number;
  params: number;
  torch: number;
  onnx: number;
  tfjs: number;
  logit_scale: number;
  s_ref: number;
  s_torch: number;
  s_onnx: number;
  s_tfjs: number;
}

/** The rows of the script's --out file (one JSON object a line). */
export function readFamilyRows(text: string): FamilyTargetsRow[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ScriptRow)
    .map((r) => ({
      file: r.file,
      model: r.model,
      size: r.size,
      params: r.params,
      diff: { torch: r.torch, onnx: r.onnx, tfjs: r.tfjs },
      logitScale: r.logit_scale,
      seconds: { reference: r.s_ref, torch: r.s_torch, onnx: r.s_onnx, tfjs: r.s_tfjs },
    }));
}

export function benchFamiliesTargets({ log }: BenchContext): FamiliesTargets {
  buildDist();
  const loadAverageStart = loadNow();
  log(`families-targets: load average ${loadAverageStart.join(', ')} at the start`);
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-families-targets-'));
  try {
    const out = join(dir, 'rows.jsonl');
    const started = Date.now();
    const r = spawnSync(PYTHON, ['bench/families_targets.py', '--out', out], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench/families_targets.py exited ${r.status ?? r.signal}`);
    const rows = readFamilyRows(readFileSync(out, 'utf8'));
    return { command: COMMAND, loadAverageStart, loadAverageEnd: loadNow(), totalSeconds: (Date.now() - started) / 1000, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const e = (x: number): string => (x === 0 ? '0' : x.toExponential(1));

export function familiesTargetsMarkdown(c: FamiliesTargets): string[] {
  const worst = c.rows.flatMap((r) => (['torch', 'onnx', 'tfjs'] as const).map((t) => ({ t, file: r.file, d: r.diff[t] }))).reduce((a, b) => (b.d > a.d ? b : a));
  return [
    '## 1e. Outputs of each shipped family on every target (issue 24)',
    '',
    "Every file in architectures/ whose `# equals:` line names a torchvision 0.14 model, at the small input",
    'test/targets/torch/families.test.ts uses (64; 96 for EfficientNet B0-B7 and MobileNetV3; 128 for ConvNeXt).',
    "torchvision's model has every parameter and buffer randomised as families.test.ts does (BN running",
    "variances and 1-D gains U(0.5, 1.5), the rest, ConvNeXt's layer_scale included, U(+-1.7 / sqrt(fan-in)));",
    'its state_dict and one random batch (1, 3, N, N) go',
    'to safetensors files, and each target is reached through the CLI only: torch is `export --target torch`',
    'imported and loaded with `strict=True`; onnx is `export --target onnx --weights SD` then',
    '`infer M.onnx --threads 2` (onnxruntime-node); tfjs is `weights import --from SD` then `infer DIR`',
    '(TF.js wasm here). Each figure is the largest |ours - torchvision| over the largest |torchvision logit|',
    "(eval mode). Params are the trainable ones (`compile --format json`, totals.trainableParams). Seconds",
    'are the wall time of each step (Node start, export or import, one inference after a warm-up); the',
    'reference column includes building, randomising and saving torchvision\'s model.',
    '',
    '```',
    `${c.command}   # or: npm run bench -- --only families-targets`,
    '```',
    '',
    `Load average (1, 5, 15 min) ${c.loadAverageStart.join(', ')} at the start and ${c.loadAverageEnd.join(', ')} at the end; ${Math.round(c.totalSeconds)} s in all.`,
    `The largest difference is ${e(worst.d)} (${worst.t}, ${worst.file}).`,
    '',
    '| file | torchvision | input | params | torch | onnx | tfjs | logits scale | s: ref / torch / onnx / tfjs |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...c.rows.map(
      (r) =>
        `| ${r.file} | ${r.model} | ${r.size} | ${r.params.toLocaleString('en-US')} | ${e(r.diff.torch)} | ${e(r.diff.onnx)} | ${e(r.diff.tfjs)} | ${r.logitScale.toFixed(1)} | ` +
        `${[r.seconds.reference, r.seconds.torch, r.seconds.onnx, r.seconds.tfjs].map((s) => s.toFixed(1)).join(' / ')} |`,
    ),
    '',
  ];
}
