/**
 * The torch target's differential tests: a TF.js model and the emitted PyTorch module, given the
 * same weights (the TF.js model's state_dict, as `weights export` writes it) and the same input,
 * must agree; every module's output shape must be the compiler's. One Python process runs every
 * case of a test file (test/targets/torch/harness.py).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { CompiledGraph } from '../../../src/compiler/index.js';
import { buildModel } from '../../../src/targets/tfjs/index.js';
import { stateDictBytes } from '../../../src/targets/tfjs/weights/index.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { skipWithout } from '../../helpers/require.js';
import { findPython } from '../../parity/fixtures.js';
import { randomiseBatchNorms, values } from '../tfjs/helpers/model_io.js';
import { requireClassifier } from '../../../src/compiler/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const HARNESS = join(HERE, 'harness.py');
export const ROOT = resolve(HERE, '../../..');

/** The Python with torch and torchvision, or undefined: the suite skips (test/helpers/require.ts says why, or fails). */
export function torchPython(): string | undefined {
  const found = findPython();
  if ('python' in found) return found.python;
  skipWithout('torch target tests', found.skip); // says why once; fails under SKIPGRAPH_REQUIRE_ALL=1
  return undefined;
}

export interface HarnessResult {
  id: string;
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/** Runs jobs in one Python process; results by id. */
export function runHarness(python: string, jobs: object[], threads = 2): Map<string, HarnessResult> {
  const r = spawnSync(python, [HARNESS, String(threads)], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`harness failed (${r.status ?? r.error}): ${r.stderr.slice(-4000)}`);
  const out = new Map<string, HarnessResult>();
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const res = JSON.parse(line) as HarnessResult;
    out.set(res.id, res);
  }
  return out;
}

/** NHWC -> NCHW of a batch. */
export function toNchw(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return out;
}

/** A node's output shape as PyTorch sees it for a batch of n (the module's output, for nodes that are modules). */
export function torchShape(shape: number[], n: number, op: string, keepdims?: boolean): number[] {
  if (op === 'global_avg_pool' && keepdims === false) return [n, shape[0], 1, 1];
  // nn.LayerNorm on a map runs on the NHWC view (torchvision's LayerNorm2d permutes around it).
  if (op === 'layernorm' && shape.length === 3) return [n, ...shape];
  // A pointwise dense on a map is nn.Linear on the NHWC view too.
  if (op === 'dense' && shape.length === 3) return [n, ...shape];
  return shape.length === 3 ? [n, shape[2], shape[0], shape[1]] : [n, ...shape];
}

/** Ops done in forward, without a module of their own. */
// layer_scale is an nn.Parameter of its parent (as torchvision's CNBlock), not a module with a hook.
const NO_MODULE = new Set(['input', 'add', 'mul', 'flatten', 'layer_scale']);

export interface Case {
  id: string;
  graph: CompiledGraph;
  job: object;
  /** The TF.js model's output, in PyTorch's layout (NCHW for maps). */
  expected: Float32Array;
  batch: number;
}

/**
 * Builds the TF.js model (seeded, random batch-norm statistics), runs a random batch, and writes
 * its state_dict, the emitted module and the input (NCHW) for the harness.
 */
export function tfjsCase(id: string, graph: CompiledGraph, dir: string, seed: number, batch = 2): Case {
  const model = buildModel(graph, { seed, probe: false });
  try {
    randomiseBatchNorms(model, seed + 1);
    const { height, width, channels } = graph.input;
    const shape = [batch, height, width, channels];
    const x = values(batch * height * width * channels, seed + 2);
    const y = tf.tidy(() => model.predict(tf.tensor(x, shape)) as tf.Tensor);
    const yData = y.dataSync() as Float32Array;
    const expected = y.shape.length === 4 ? toNchw(yData, y.shape as number[]) : new Float32Array(yData);
    y.dispose();
    const safe = id.replace(/[^A-Za-z0-9_.-]/g, '_');
    const py = join(dir, `${safe}.py`);
    writeFileSync(py, emitTorch(graph, { version: 'test', source: `${id}.yaml` }));
    const weights = join(dir, `${safe}.safetensors`);
    writeFileSync(weights, stateDictBytes(model, graph));
    const input = join(dir, `${safe}.input.f32`);
    writeFileSync(input, toNchw(x, shape));
    return { id, graph, expected, batch, job: { kind: 'run', id, py, weights, input, batch, shape: [channels, height, width] } };
  } finally {
    model.dispose();
  }
}

/** Largest |a - b| over the largest |a| (at least 1e-6). */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-6;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

/** The checks on one harness result: strict load, counts, every module's shape, the output. Returns the relative difference. */
export function checkCase(c: Case, res: HarnessResult | undefined): number {
  expect(res, `${c.id}: no result`).toBeDefined();
  expect(res!.error, `${c.id}`).toBeUndefined();
  expect(res!.ok).toBe(true);
  const g = c.graph;
  expect([res!.params, res!.buffers], `${c.id}: parameter and buffer counts`).toEqual([g.totals.trainableParams, g.totals.nonTrainableParams]);
  const shapes = res!.shapes as Record<string, number[]>;
  const seen: string[] = [];
  for (const n of g.nodes) {
    if (NO_MODULE.has(n.op)) continue;
    const want = torchShape(n.shape, c.batch, n.op, n.op === 'global_avg_pool' ? n.attrs.keepdims : undefined);
    expect(shapes[n.id], `${c.id}: output shape of ${n.id} (${n.op})`).toEqual(want);
    seen.push(n.id);
  }
  expect(seen.length).toBeGreaterThan(0);
  const out = g.nodes.find((n) => n.id === requireClassifier(g, 'this test').output)!;
  expect(res!.outShape, `${c.id}: output shape`).toEqual(torchShape(out.shape, c.batch, 'x'));
  const d = relDiff(c.expected, res!.output as number[]);
  expect(d, `${c.id}: the emitted module's output against TF.js's, relative to the logits' scale`).toBeLessThan(1e-4);
  return d;
}
