/**
 * Every shipped file whose `# equals:` line names a torchvision 0.14 model, against that model
 * itself. The list is read from architectures/ (shippedModels()), so a new file with such a line
 * is checked with no edit here.
 * - Counts: torchvision computes its trainable params and MACs at 224 (forward hooks on a
 *   meta-device forward) and they must equal ours; its stochastic-depth probabilities must be our
 *   drop_path rates, block by block; its state_dict keys must be ours.
 * - Outputs: its state_dict loads into our emitted PyTorch module with strict=True and, with every
 *   parameter and buffer randomised (BN statistics and layer scale included), eval and train-mode
 *   outputs (dropout and stochastic depth off) agree within 1e-5 of the logits' scale. Each model
 *   runs at the smallest input (a multiple of 32) at which every tap of every conv kernel meets an
 *   input pixel, so no weight is left out of the comparison (96 for EfficientNet's 5x5 kernels
 *   after a stride of 32, 128 for ConvNeXt's 7x7).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile, requireClassifier, type CompiledGraph } from '../../../src/compiler/files.js';
import { shippedModels } from '../../../src/parser/files.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { torchPython, type HarnessResult } from './helpers.js';

const python = torchPython();
const HARNESS = join(dirname(fileURLToPath(import.meta.url)), 'families_harness.py');

/** SKIPGRAPH_FAMILIES=mobilenet_v3_large,mobilenet_v3_small runs only those (a family's author checking it). */
const ONLY = process.env.SKIPGRAPH_FAMILIES?.split(',');

/** `torchvision.models.NAME` or `torchvision.models.NAME(keyword=literal, ...)`. */
const TORCHVISION = /^torchvision\.models\.(\w+)(?:\((.*)\))?$/;

/** A shipped file and the torchvision builder (and keyword arguments) it equals. */
interface Family {
  file: string;
  path: string;
  model: string;
  args: string;
}

const SHIPPED = shippedModels();
const FAMILIES: Family[] = SHIPPED.flatMap((m) => {
  const t = TORCHVISION.exec(m.equals);
  return t ? [{ file: m.name, path: m.path, model: t[1], args: t[2] ?? '' }] : [];
}).filter((f) => ONLY === undefined || ONLY.includes(f.file));

/** Whether every tap of every conv kernel meets an input pixel for some output position. */
function everyTapUsed(g: CompiledGraph): boolean {
  const shapes = new Map(g.nodes.map((n) => [n.id, n.shape]));
  return g.nodes.every((n) => {
    if (n.op !== 'conv') return true;
    const a = n.attrs;
    const [h, w] = shapes.get(n.inputs[0])!;
    const axis = (size: number, out: number, k: number, s: number, pad: number, d: number) =>
      Array.from({ length: k }, (_, j) => j).every((j) => Array.from({ length: out }, (_, o) => o * s - pad + j * d).some((i) => i >= 0 && i < size));
    return axis(h, n.shape[0], a.kernel[0], a.stride[0], a.padding[0], a.dilation[0]) && axis(w, n.shape[1], a.kernel[1], a.stride[1], a.padding[2], a.dilation[1]);
  });
}

/** The smallest square input, a multiple of 32 up to the file's own, at which the file compiles and every kernel tap is used. */
function outputSize(f: Family): { size: number; graph: CompiledGraph } {
  const own = compileFile(f.path).graph!.input.height;
  for (let size = 32; size < own; size += 32) {
    const graph = compileFile(f.path, { sets: ['drop_path_rate=0', `input.height=${size}`, `input.width=${size}`] }).graph;
    if (graph && everyTapUsed(graph)) return { size, graph };
  }
  return { size: own, graph: compileFile(f.path, { sets: ['drop_path_rate=0'] }).graph! };
}

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
  /** Each file's input side and batch for the output comparison. */
  const runs = new Map<string, { size: number; batch: number }>();
  const figures: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-families-'));
    const jobs: object[] = [];
    for (const f of FAMILIES) {
      const r = compileFile(f.path);
      if (!r.graph) throw new Error(`${f.file}.yaml does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      graphs.set(f.file, r.graph);
      const ref = { model: f.model, args: f.args };
      jobs.push({ kind: 'counts', id: `counts:${f.file}`, ...ref, size: 224 });
      // Stochastic depth off for the train-mode comparison (dropout is set to 0 in Python).
      const { size, graph } = outputSize(f);
      const py = join(dir, `${f.file}.py`);
      writeFileSync(py, emitTorch(graph, { version: 'test', source: `architectures/${f.file}.yaml` }));
      // A batch of 2 where it is cheap; one image past 1 GMAC (ConvNeXt at 128): the shapes are compared too.
      const batch = graph.totals.macs > 1e9 ? 1 : 2;
      runs.set(f.file, { size, batch });
      jobs.push({ kind: 'outputs', id: `outputs:${f.file}`, ...ref, py, size, batch, seed: 0 });
    }
    results = runFamilies(jobs);
  }, 1_800_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (figures.length > 0) process.stderr.write(`families against torchvision:\n  ${figures.join('\n  ')}\n`);
  });

  it('every shipped file whose `# equals:` line names a torchvision model is output-checked here', () => {
    // A line that starts like torchvision's but does not parse would otherwise escape the check.
    const named = SHIPPED.filter((m) => /^torchvision\b/.test(m.equals)).filter((m) => ONLY === undefined || ONLY.includes(m.name));
    expect(named.filter((m) => !TORCHVISION.test(m.equals)).map((m) => `${m.name}: ${m.equals}`), '`# equals:` lines that name torchvision in no form this test reads').toEqual([]);
    expect(FAMILIES.map((f) => f.file)).toEqual(named.map((m) => m.name));
    expect(FAMILIES.filter((f) => !results.has(`outputs:${f.file}`)).map((f) => f.file), 'torchvision-equal files without an output comparison').toEqual([]);
    if (ONLY === undefined) expect(FAMILIES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(FAMILIES.map((f) => f.file))("%s: trainable params, MACs at 224, state_dict keys and stochastic-depth rates equal torchvision's", (file) => {
    const res = results.get(`counts:${file}`)!;
    expect(res.error).toBeUndefined();
    const g = graphs.get(file)!;
    expect([g.totals.trainableParams, g.totals.macs]).toEqual([res.params, res.macs]);
    expect(stateKeys(g).sort()).toEqual([...(res.keys as string[])].sort());
    // torchvision's StochasticDepth sits only in blocks with a residual (use_res_connect): ours too.
    const rates = g.nodes.filter((n) => n.op === 'drop_path').map((n) => (n.attrs as { rate: number }).rate);
    const theirs = (res.sd as number[]).filter((_, k) => (res.residual as boolean[])[k]).filter((p) => p > 0);
    expect(rates.length).toBe(theirs.length);
    rates.forEach((r, k) => expect(r).toBeCloseTo(theirs[k], 12));
    expect(g.nodes.filter((n) => n.op === 'add').length).toBe((res.residual as boolean[]).filter(Boolean).length);
    figures.push(`${file}: ${g.totals.trainableParams.toLocaleString('en-US')} params, ${g.totals.macs.toLocaleString('en-US')} MACs at 224 (torchvision's own)`);
  });

  it.each(FAMILIES.map((f) => f.file))("%s: torchvision's state_dict loads strictly; outputs within 1e-5 of the logits' scale, eval and train", (file) => {
    const res = results.get(`outputs:${file}`)!;
    expect(res.error).toBeUndefined();
    expect([res.missing, res.unexpected]).toEqual([[], []]);
    const [evalRef, evalOurs, trainRef, trainOurs] = res.shapes as number[][];
    expect([evalOurs, trainRef, trainOurs]).toEqual([evalRef, evalRef, evalRef]);
    expect(evalRef).toEqual([runs.get(file)!.batch, requireClassifier(graphs.get(file)!, 'the families test').classes]);
    expect(res.eval as number).toBeLessThan(1e-5 * Math.max(1, res.scale as number));
    expect(res.train as number).toBeLessThan(1e-5 * Math.max(1, res.train_scale as number));
    figures.push(`${file} at ${runs.get(file)!.size} (batch ${runs.get(file)!.batch}): eval ${(res.eval as number).toExponential(2)} (scale ${(res.scale as number).toFixed(2)}), train ${(res.train as number).toExponential(2)} (scale ${(res.train_scale as number).toFixed(2)}), ${(res.seconds as number).toFixed(1)} s`);
  });
});
