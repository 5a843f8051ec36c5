/**
 * onnxruntime-node's outputs equal the TF.js model's with the same weights (random, with random
 * batch-norm statistics), within 1e-4 of the logits' scale: plain and with --fold, at batch 1 and
 * 3 through one file (the batch dimension is dynamic). The default slice (cheap: the 50-layer
 * files take 10-25 s each here) takes resnet18, the CIFAR net (option-A Slice + Pad) and the MNIST
 * net, a small file that holds grouped convs, avgdown's ceil pool, squeeze-excitation's Mul,
 * option A and a pre-activation stage, a max-pool of negative values, and random architectures;
 * SKIPGRAPH_ONNX_FULL=1 runs every file in architectures/ and more random ones. The last test
 * checks that every op of the registry (OP_KINDS) ran here; test/conformance runs each on its own.
 */
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSource, OP_KINDS, type CompiledGraph } from '../../../src/compiler/files.js';
import { decodeModel, exportOnnx } from '../../../src/targets/onnx/index.js';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { skipTestWithout } from '../../helpers/require.js';
import { archArb, runs, SEED, toYaml } from '../../property/arch.js';
import { compileSmall, MIXED_YAML, TOLERANCE, loadOrt, maxRelDiff, ortForward, randomInput, randomWeights, tfjsForward, tfjsModel } from './helpers.js';
import { requireClassifier } from '../../../src/compiler/index.js';

const FULL = process.env.SKIPGRAPH_ONNX_FULL === '1';
const DEFAULT_FILES = ['resnet18', 'cifar_resnet20', 'mnist_resnet'];
const FILES = readdirSync('architectures')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -5))
  .filter((f) => FULL || DEFAULT_FILES.includes(f))
  .sort();
let ort: Awaited<ReturnType<typeof loadOrt>>;
beforeAll(async () => {
  ort = await loadOrt();
  await selectBackend({ force: 'wasm' });
});

/** The ops of every graph compared here, for the coverage check against the registry at the end. */
const covered = new Set<string>();

/** Max relative difference ORT vs TF.js, plain and folded, batch 1 and 3. */
async function compare(graph: CompiledGraph, seed: number): Promise<{ plain: number; folded: number }> {
  if (typeof ort === 'string') throw new Error(ort);
  for (const n of graph.nodes) covered.add(n.op);
  const weights = randomWeights(graph, seed);
  const model = tfjsModel(graph, weights);
  const out = { plain: 0, folded: 0 };
  try {
    for (const fold of [false, true]) {
      const bytes = exportOnnx(graph, weights, { fold }).bytes;
      for (const batch of [1, 3]) {
        const x = randomInput(graph, batch, seed + batch);
        const want = tfjsForward(model, x);
        const got = await ortForward(ort, bytes, x);
        const outNode = graph.nodes.find((n) => n.id === requireClassifier(graph, 'this test').output)!;
        expect(got.dims).toEqual([batch, ...outNode.shape]);
        const d = maxRelDiff(got.data, want);
        out[fold ? 'folded' : 'plain'] = Math.max(out[fold ? 'folded' : 'plain'], d);
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

describe('onnxruntime equals TF.js', () => {
  for (const name of FILES) {
    it(`${name} at a small input (plain and --fold, batch 1 and 3)`, async (ctx) => {
      if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
      const d = await compare(compileSmall(name), 1);
      expect(d.plain).toBeLessThan(TOLERANCE);
      expect(d.folded).toBeLessThan(TOLERANCE);
    });
  }

  it('a max-pool over negative values: its padding never wins', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
    // No relu before the pool, and a bias pushed far below zero: every value the pool sees is negative.
    const r = compileSource(`
name: negpool
input: { height: 9, width: 9, channels: 2 }
classes: 3
stem:
  - { op: conv, filters: 4, kernel: 3, stride: 1, bias: true }
  - { op: maxpool, kernel: 3, stride: 2, padding: 1 }
  - { op: avgpool, kernel: 3, stride: 1, padding: 1 }
stages:
  - { block: basic, channels: 4, blocks: 1, stride: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`);
    const graph = r.graph!;
    for (const n of graph.nodes) covered.add(n.op);
    const weights = randomWeights(graph, 3);
    weights.get('conv1.bias')!.data.fill(-10);
    const model = tfjsModel(graph, weights);
    try {
      const x = randomInput(graph, 2, 4);
      const want = tfjsForward(model, x);
      const got = await ortForward(ort, exportOnnx(graph, weights).bytes, x);
      expect(maxRelDiff(got.data, want)).toBeLessThan(TOLERANCE);
    } finally {
      model.dispose();
    }
  });

  it('grouped convs, avgdown, squeeze-excitation, option A and pre-activation in one small file', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
    const r = compileSource(MIXED_YAML, { file: 'mixed.yaml' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ops = new Set(r.graph!.nodes.map((n) => n.op));
    for (const op of ['subsample', 'channel_pad', 'mul', 'avgpool']) expect(ops).toContain(op);
    expect(r.graph!.nodes.some((n) => n.op === 'conv' && (n.attrs as { groups: number }).groups > 1)).toBe(true);
    const d = await compare(r.graph!, 5);
    expect(d.plain).toBeLessThan(TOLERANCE);
    expect(d.folded).toBeLessThan(TOLERANCE);
  });

  it('an avgdown pool whose last ONNX ceil-mode window would start past the data (stride 3 on a 3-wide map)', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
    const r = compileSource(`
name: stride3
input: { height: 7, width: 3, channels: 2 }
classes: 3
shortcut: avgdown
stem:
  - { op: conv, filters: 4, kernel: 3 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: basic, channels: 8, blocks: 1, stride: 3 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const pool = r.graph!.nodes.find((n) => n.op === 'avgpool')!;
    expect(pool.shape.slice(0, 2)).toEqual([3, 1]); // PyTorch drops the window that would start at column 3
    // ONNX's ceil mode would keep it: the export uses floor mode with PyTorch's end padding instead.
    const node = decodeModel(exportOnnx(r.graph!, randomWeights(r.graph!, 1)).bytes).graph.node.find((n) => n.name === pool.id)!;
    expect(node.attribute.find((a) => a.name === 'ceil_mode')!.i ?? 0).toBe(0);
    expect(node.attribute.find((a) => a.name === 'count_include_pad')!.i).toBe(0);
    const d = await compare(r.graph!, 8);
    expect(d.plain).toBeLessThan(TOLERANCE);
    expect(d.folded).toBeLessThan(TOLERANCE);
  });

  it('stochastic depth (identity at inference), zeropad, relu6, silu, tanh, hardswish, gelu, hardsigmoid and a flatten head: the ops no file above holds', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
    const r = compileSource(`
name: rest
input: { height: 8, width: 8, channels: 3 }
classes: 4
drop_path_rate: 0.3
stem:
  - { op: zeropad, padding: [1, 0, 2, 1] }
  - { op: conv, filters: 4, kernel: 3, bias: true }
  - { op: relu6 }
  - { op: conv, filters: 4, kernel: 3, stride: 2 }
  - { op: silu }
  - { op: bn }
  - { op: tanh }
  - { op: hardswish }
  - { op: gelu }
  - { op: hardsigmoid }
stages:
  - { block: basic, channels: 4, blocks: 3, stride: 1 }
head:
  - { op: flatten }
  - { op: dense, units: $classes }
`);
    const ops = new Set(r.graph!.nodes.map((n) => n.op));
    for (const op of ['drop_path', 'zeropad', 'relu6', 'silu', 'tanh', 'hardswish', 'gelu', 'hardsigmoid', 'flatten']) expect(ops).toContain(op);
    const d = await compare(r.graph!, 9);
    expect(d.plain).toBeLessThan(TOLERANCE);
    expect(d.folded).toBeLessThan(TOLERANCE);
  });

  const RUNS = runs(FULL ? 40 : 10);
  it(`random architectures (${RUNS} runs, seed ${SEED}), plain and --fold`, async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
    const cases = fc.sample(archArb.map(toYaml), { numRuns: RUNS * 3, seed: SEED });
    let done = 0;
    for (const [i, text] of cases.entries()) {
      if (done === RUNS) break;
      const r = compileSource(text, { file: 'generated.yaml' });
      if (r.graph === undefined || r.graph.totals.params > 300_000) continue;
      const d = await compare(r.graph, 100 + i);
      expect({ case: i, ...d, ok: d.plain < TOLERANCE && d.folded < TOLERANCE }).toMatchObject({ ok: true });
      done++;
    }
    expect(done).toBe(RUNS);
  });

  it('covered every op of the registry (OP_KINDS), not a hand list', (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnxruntime outputs', ort);
    expect(OP_KINDS.filter((op) => !covered.has(op)), 'ops no graph of this file held').toEqual([]);
  });
});
