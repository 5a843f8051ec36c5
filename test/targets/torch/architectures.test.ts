/**
 * Every file in architectures/, at a small input, emitted as PyTorch: its parameter and buffer
 * counts and every module's output shape are the compiler's, and given the TF.js model's weights
 * (its state_dict, as `weights export` writes it, loaded with strict=True) its eval-mode output
 * equals the TF.js model's within 1e-4 of the logits' scale. torchvision's resnet18, resnet50,
 * resnext50_32x4d and wide_resnet50_2 (and the dilated resnet50s) load into the emitted files with
 * strict=True and give torchvision's outputs within 1e-5, in eval and train mode, and the same
 * parameters and running statistics after one SGD step. One Python process for the file.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/files.js';
import { selectBackend } from '../../../src/targets/tfjs/index.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { writeFileSync } from 'node:fs';
import { checkCase, ROOT, runHarness, tfjsCase, torchPython, type Case, type HarnessResult } from './helpers.js';

const python = torchPython();
const ARCH_DIR = join(ROOT, 'architectures');
const FILES = readdirSync(ARCH_DIR).filter((f) => f.endsWith('.yaml')).sort();
/** The small input: ImageNet models at 32x32 (CIFAR and MNIST files keep theirs). */
const SMALL = 32;

/** torchvision models and the architecture file that must match each. */
const TORCHVISION: { model: string; file: string; kwargs?: Record<string, unknown> }[] = [
  { model: 'resnet18', file: 'resnet18.yaml' },
  { model: 'resnet50', file: 'resnet50.yaml' },
  { model: 'resnext50_32x4d', file: 'resnext50_32x4d.yaml' },
  { model: 'wide_resnet50_2', file: 'wide_resnet50_2.yaml' },
  { model: 'resnet50', file: 'resnet50_os16.yaml', kwargs: { replace_stride_with_dilation: [false, false, true] } },
  { model: 'resnet50', file: 'resnet50_os8.yaml', kwargs: { replace_stride_with_dilation: [false, true, true] } },
].filter((t) => FILES.includes(t.file));
const TV_SIZE = 64;
/**
 * Above this many parameters the TF.js side (random init, a state_dict of hundreds of MB) costs
 * more than the default suite can spend (about 4 s of CPU each): the ResNet-34/50/101/152 family is compared
 * with TF.js under SKIPGRAPH_TORCH_FULL=1 (their torchvision checks always run).
 */
const MAX_PARAMS = process.env.SKIPGRAPH_TORCH_FULL === '1' ? Infinity : 12e6;
const graphs = new Map(
  FILES.map((f) => {
    const probe = compileFile(join(ARCH_DIR, f));
    const big = (probe.graph?.input.height ?? 0) > 64;
    return [f, compileFile(join(ARCH_DIR, f), big ? { sets: [`input.height=${SMALL}`, `input.width=${SMALL}`] } : {})] as const;
  }),
);
const DIFF_FILES = FILES.filter((f) => (graphs.get(f)!.graph?.totals.params ?? 0) <= MAX_PARAMS);
const HEAVY = FILES.filter((f) => !DIFF_FILES.includes(f));

describe.skipIf(python === undefined)('torch target: architectures/ and torchvision', () => {
  let dir: string;
  const cases: Case[] = [];
  let results: Map<string, HarnessResult>;
  const figures: string[] = [];

  beforeAll(async () => {
    await selectBackend({ force: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-arch-'));
    if (HEAVY.length > 0) process.stderr.write(`torch target: ${HEAVY.join(', ')} compared with TF.js only under SKIPGRAPH_TORCH_FULL=1 (over ${MAX_PARAMS / 1e6}M parameters)\n`);
    DIFF_FILES.forEach((f, k) => {
      const r = graphs.get(f)!;
      if (!r.graph) throw new Error(`${f} does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      cases.push(tfjsCase(f, r.graph, dir, 100 + k));
    });
    const tvJobs = TORCHVISION.map((t) => {
      const r = compileFile(join(ARCH_DIR, t.file));
      const py = join(dir, `tv_${t.file}.py`);
      writeFileSync(py, emitTorch(r.graph!, { version: 'test', source: `architectures/${t.file}` }));
      return { kind: 'torchvision', id: `tv:${t.file}`, model: t.model, kwargs: t.kwargs ?? {}, py, size: TV_SIZE, batch: 2, seed: 0 };
    });
    results = runHarness(python!, [...cases.map((c) => c.job), ...tvJobs]);
  }, 1_800_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (figures.length > 0) process.stderr.write(`torch target, largest differences:\n  ${figures.join('\n  ')}\n`);
  });

  it.each(DIFF_FILES)('%s: strict load, counts, every module shape, output equal to TF.js', (f) => {
    const c = cases.find((x) => x.id === f)!;
    const d = checkCase(c, results.get(f));
    expect(results.get(f)!.missing).toEqual([]);
    figures.push(`${f}: ${d.toExponential(2)} of the logits' scale (vs TF.js)`);
  });

  it.each(TORCHVISION.map((t) => [t.model, t.file, t] as const))('torchvision %s loads into %s (strict) and gives its outputs within 1e-5, eval and train', (_m, file, t) => {
    const res = results.get(`tv:${file}`)!;
    expect(res.error).toBeUndefined();
    expect([res.missing, res.unexpected]).toEqual([[], []]);
    expect(res.eval as number).toBeLessThan(1e-5 * Math.max(1, res.scale as number));
    expect(res.train as number).toBeLessThan(1e-5 * Math.max(1, res.scale as number));
    expect(res.after_step as number).toBeLessThan(1e-5);
    figures.push(`torchvision ${t.model}${t.kwargs ? ' ' + JSON.stringify(t.kwargs) : ''} vs ${file}: eval ${(res.eval as number).toExponential(2)}, train ${(res.train as number).toExponential(2)}, after one SGD step ${(res.after_step as number).toExponential(2)} (logits scale ${(res.scale as number).toFixed(2)})`);
  });
});
