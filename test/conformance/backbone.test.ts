/**
 * A backbone (issue 24, `features:`) on every target with the same weights and input: each feature
 * map, in the file's order, agrees within 1e-4 of its scale (max |TF.js|) between TF.js (and its
 * folded inference model), PyTorch (eval, train mode and the running statistics it leaves) and
 * ONNX Runtime (plain and --fold), whose outputs are named by the features. The features are out of
 * the network's order and one is a batch norm that a relu follows (PyTorch must not run that relu
 * in place on a returned map; folding must not swallow it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource, type BackboneGraph } from '../../src/compiler/index.js';
import { exportOnnx } from '../../src/targets/onnx/index.js';
import { backendMissing, loadOnnxRuntime, skipTestWithout, skipWithout, torchMissing, torchPythonPath } from '../helpers/require.js';
import { maxRelDiff, randomInput, randomWeights } from '../targets/onnx/helpers.js';
import { runTfjs, runTorch, torchJob, type Outputs, type Prepared } from './targets.js';

const TOLERANCE = 1e-4;
const FEATURES = ['layer3', 'bn1', 'layer1'];

const YAML = `name: tiny_backbone
input: { height: 32, width: 32, channels: 3 }
stem:
  - { op: conv, filters: 8, kernel: 3, stride: 2 }
  - { op: bn }
  - { op: relu }
  - { op: maxpool, kernel: 3, stride: 2, padding: 1 }
stages:
  - { block: basic, channels: 8, blocks: 2 }
  - { block: bottleneck, channels: 4, blocks: 1, stride: 2 }
  - { block: basic, channels: 24, blocks: 1, stride: 2, se: true }
features: [${FEATURES.join(', ')}]
`;

/** Splits outputs laid one after another (NCHW each) into the features' maps. */
function split(g: BackboneGraph, batch: number, flat: Float32Array): Float32Array[] {
  let at = 0;
  return g.features.map((f) => {
    const n = batch * f.shape.reduce((a, b) => a * b, 1);
    const part = flat.subarray(at, at + n);
    at += n;
    return part;
  });
}

const backendWhy = await backendMissing('wasm');
const torchWhy = torchMissing();
const ortLoaded = await loadOnnxRuntime();
const ortWhy = 'why' in ortLoaded ? ortLoaded.why : undefined;

describe.skipIf(skipWithout('backbone conformance', backendWhy))('a backbone on TF.js, PyTorch and ONNX Runtime: every feature, in order', () => {
  let graph: BackboneGraph;
  let p: Prepared;
  let ref: Outputs;
  const figures: string[] = [];

  beforeAll(() => {
    const r = compileSource(YAML, { file: 'tiny_backbone.yaml' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    if (r.graph?.kind !== 'backbone') throw new Error('not a backbone');
    graph = r.graph;
    p = { id: 'backbone', graph, weights: randomWeights(graph, 3), input: randomInput(graph, 2, 11), train: true };
    ref = runTfjs(p);
  });

  afterAll(() => {
    if (figures.length) process.stderr.write(`backbone conformance: worst |target - TF.js| / max |TF.js| per feature:\n  ${figures.join('\n  ')}\n`);
  });

  /** Compares a target's outputs with TF.js's, feature by feature. */
  function compare(column: string, got: Float32Array, want: Float32Array): void {
    expect(got.length, `${column}: values returned`).toBe(want.length);
    const g = split(graph, 2, got);
    const w = split(graph, 2, want);
    const diffs = graph.features.map((f, i) => {
      // A map that is zero everywhere would compare nothing.
      expect(w[i].some((v) => v !== 0), `${column} ${f.name}: TF.js's map is all zeros`).toBe(true);
      return maxRelDiff(g[i], w[i]);
    });
    figures.push(`${column.padEnd(12)} ${graph.features.map((f, i) => `${f.name} ${diffs[i].toExponential(1)}`).join(', ')}`);
    graph.features.forEach((f, i) => expect(diffs[i], `${column} ${f.name}`).toBeLessThan(TOLERANCE));
  }

  it('the features are as written: order, nodes, channels and reduction', () => {
    expect(graph.features.map((f) => [f.name, f.node, f.channels, f.reduction])).toEqual([
      ['layer3', 'layer3.0.relu2', 24, 16],
      ['bn1', 'bn1', 8, 2],
      ['layer1', 'layer1.1.relu2', 8, 4],
    ]);
  });

  it('TF.js: the folded inference model returns the same maps', () => {
    compare('tfjs --fold', ref.folded!, ref.eval);
  });

  it('PyTorch: eval, train mode and running statistics', (ctx) => {
    skipTestWithout(ctx, 'backbone conformance: PyTorch', torchWhy);
    const dir = mkdtempSync(join(tmpdir(), 'skipgraph-backbone-conf-'));
    try {
      const out = runTorch(torchPythonPath()!, [torchJob(p, dir)]).get('backbone')!;
      if ('error' in out) throw new Error(out.error);
      compare('torch eval', out.eval, ref.eval);
      compare('torch train', out.train!, ref.train!);
      for (const [k, v] of ref.stats!) expect(maxRelDiff(out.stats!.get(k)!, v), k).toBeLessThan(TOLERANCE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ONNX Runtime: one output per feature, named by it, plain and --fold', async (ctx) => {
    skipTestWithout(ctx, 'backbone conformance: ONNX Runtime', ortWhy);
    if ('why' in ortLoaded) return;
    const ort = ortLoaded.module;
    for (const fold of [false, true]) {
      const session = await ort.InferenceSession.create(exportOnnx(graph, p.weights, { fold }).bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      try {
        expect(session.outputNames).toEqual(FEATURES);
        const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', p.input.data, p.input.dims) });
        graph.features.forEach((f) => expect(out[f.name].dims).toEqual([2, f.shape[2], f.shape[0], f.shape[1]]));
        const parts = FEATURES.map((name) => out[name].data as Float32Array);
        const flat = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
        let at = 0;
        for (const x of parts) {
          flat.set(x, at);
          at += x.length;
        }
        compare(fold ? 'onnx --fold' : 'onnx', flat, ref.eval);
      } finally {
        await session.release();
      }
    }
  });
});
