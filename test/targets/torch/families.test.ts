/**
 * The families of issue 24 against torchvision 0.14 itself: for every shipped MobileNet and
 * EfficientNet file, torchvision computes its trainable params and MACs at 224 (forward hooks on a
 * meta-device forward) and they must equal ours; its stochastic-depth probabilities must be our
 * drop_path rates, block by block; its state_dict keys must be ours. For the lighter ones, its
 * state_dict loads into our emitted PyTorch module with strict=True and, with every parameter and
 * buffer randomised, eval and train-mode outputs (dropout and stochastic depth off) agree within
 * 1e-5 of the logits' scale.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile, type CompiledGraph } from '../../../src/compiler/files.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { ROOT, torchPython, type HarnessResult } from './helpers.js';

const python = torchPython();
const HARNESS = join(dirname(fileURLToPath(import.meta.url)), 'families_harness.py');
const arch = (f: string) => join(ROOT, 'architectures', f);

/** SKIPGRAPH_FAMILIES=mobilenet_v3_large,mobilenet_v3_small runs only those (a family's author checking it). */
const ONLY = process.env.SKIPGRAPH_FAMILIES?.split(',');

/** torchvision's builder, our file, and the input side for the output comparison (none: counts only). */
const FAMILIES: { model: string; size?: number }[] = [
  { model: 'mobilenet_v2', size: 224 },
  { model: 'mobilenet_v3_large', size: 224 },
  { model: 'mobilenet_v3_small', size: 224 },
  { model: 'efficientnet_b0', size: 224 },
  // Smaller inputs where the model is heavier (every block still runs; counts are at 224 for all).
  { model: 'efficientnet_b1', size: 128 },
  { model: 'efficientnet_b2' },
  { model: 'efficientnet_b3' },
  { model: 'efficientnet_b4' },
  { model: 'efficientnet_b5' },
  { model: 'efficientnet_b6' },
  { model: 'efficientnet_b7' },
  // 2.9 GMACs at 224: its outputs are compared at 96 (the last map is 3x3).
  { model: 'efficientnet_v2_s', size: 96 },
  // 4.5 GMACs at 224: outputs at 96 (the last map is 3x3); its pointwise Linears are counted per position.
  { model: 'convnext_tiny', size: 96 },
  { model: 'convnext_small', size: 64 },
  { model: 'convnext_base' },
].filter((f) => ONLY === undefined || ONLY.includes(f.model));

function runFamilies(jobs: object[]): Map<string, HarnessResult> {
  const r = spawnSync(python!, [HARNESS, '2'], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 1_200_000 });
  if (r.status !== 0) throw new Error(`harness failed (${r.status ?? r.error}): ${r.stderr.slice(-4000)}`);
  return new Map(
    r.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as HarnessResult)
      .map((res) => [res.id, res]),
  );
}

/** The state_dict keys our graph has, in node order (conv weight/bias, BN's five, layernorm and dense weight/bias, layer_scale's own). */
function stateKeys(g: CompiledGraph): string[] {
  const keys: string[] = [];
  for (const n of g.nodes) {
    if (n.op === 'conv') keys.push(`${n.id}.weight`, ...(n.attrs.bias ? [`${n.id}.bias`] : []));
    else if (n.op === 'bn') keys.push(...['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((k) => `${n.id}.${k}`));
    else if (n.op === 'dense') keys.push(`${n.id}.weight`, ...(n.attrs.bias ? [`${n.id}.bias`] : []));
    else if (n.op === 'layernorm') keys.push(`${n.id}.weight`, `${n.id}.bias`);
    else if (n.op === 'layer_scale') keys.push(n.id);
  }
  return keys;
}

describe.skipIf(python === undefined)('families: torchvision 0.14 itself against architectures/', () => {
  let dir: string;
  let results: Map<string, HarnessResult>;
  const graphs = new Map<string, CompiledGraph>();
  const figures: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-families-'));
    const jobs: object[] = [];
    for (const f of FAMILIES) {
      const r = compileFile(arch(`${f.model}.yaml`));
      if (!r.graph) throw new Error(`${f.model}.yaml does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      graphs.set(f.model, r.graph);
      jobs.push({ kind: 'counts', id: `counts:${f.model}`, model: f.model, size: 224 });
      if (f.size === undefined) continue;
      // Stochastic depth off for the train-mode comparison (dropout is set to 0 in Python).
      const sets = ['drop_path_rate=0', `input.height=${f.size}`, `input.width=${f.size}`];
      const off = compileFile(arch(`${f.model}.yaml`), { sets });
      const py = join(dir, `${f.model}.py`);
      writeFileSync(py, emitTorch(off.graph!, { version: 'test', source: `architectures/${f.model}.yaml` }));
      jobs.push({ kind: 'outputs', id: `outputs:${f.model}`, model: f.model, py, size: f.size, batch: 2, seed: 0 });
    }
    results = runFamilies(jobs);
  }, 1_800_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (figures.length > 0) process.stderr.write(`families against torchvision:\n  ${figures.join('\n  ')}\n`);
  });

  it.each(FAMILIES.map((f) => f.model))('%s: trainable params, MACs at 224, state_dict keys and stochastic-depth rates equal torchvision\'s', (model) => {
    const res = results.get(`counts:${model}`)!;
    expect(res.error).toBeUndefined();
    const g = graphs.get(model)!;
    expect([g.totals.trainableParams, g.totals.macs]).toEqual([res.params, res.macs]);
    expect(stateKeys(g).sort()).toEqual([...(res.keys as string[])].sort());
    // torchvision's StochasticDepth sits only in blocks with a residual (use_res_connect): ours too.
    const rates = g.nodes.filter((n) => n.op === 'drop_path').map((n) => (n.attrs as { rate: number }).rate);
    const theirs = (res.sd as number[]).filter((_, k) => (res.residual as boolean[])[k]).filter((p) => p > 0);
    expect(rates.length).toBe(theirs.length);
    rates.forEach((r, k) => expect(r).toBeCloseTo(theirs[k], 12));
    expect(g.nodes.filter((n) => n.op === 'add').length).toBe((res.residual as boolean[]).filter(Boolean).length);
    figures.push(`${model}: ${g.totals.trainableParams.toLocaleString('en-US')} params, ${g.totals.macs.toLocaleString('en-US')} MACs at 224 (torchvision's own)`);
  });

  it.each(FAMILIES.filter((f) => f.size !== undefined).map((f) => [f.model, f.size] as const))("%s: torchvision's state_dict loads strictly, outputs at %i within 1e-5 of the logits' scale, eval and train", (model) => {
    const res = results.get(`outputs:${model}`)!;
    expect(res.error).toBeUndefined();
    expect([res.missing, res.unexpected]).toEqual([[], []]);
    expect(res.eval as number).toBeLessThan(1e-5 * Math.max(1, res.scale as number));
    expect(res.train as number).toBeLessThan(1e-5 * Math.max(1, res.train_scale as number));
    figures.push(`${model}: eval ${(res.eval as number).toExponential(2)} (scale ${(res.scale as number).toFixed(2)}), train ${(res.train as number).toExponential(2)} (scale ${(res.train_scale as number).toFixed(2)})`);
  });
});
