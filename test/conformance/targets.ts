/**
 * The three targets of the conformance matrix, each given the same weights (one random state_dict
 * in PyTorch's layout, test/targets/onnx/helpers.ts's randomWeights) and the same NCHW input:
 * - TF.js: the built model with the state_dict loaded (the reference; eval, and one train-mode
 *   forward with the running statistics it leaves), and its folded inference model (--fold);
 * - PyTorch: the emitted module, every case in one Python process (runner.py);
 * - ONNX Runtime: the exported file, plain and with --fold.
 * Every output comes back flat, in PyTorch's layout (NCHW for maps).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledGraph } from '../../src/compiler/index.js';
import { exportOnnx } from '../../src/targets/onnx/index.js';
import { serializeSafetensors } from '../../src/formats/safetensors.js';
import { foldForInference } from '../../src/targets/tfjs/fold.js';
import { readStateDict } from '../../src/targets/tfjs/weights/index.js';
import { emitTorch } from '../../src/targets/torch/index.js';
import type { Ort } from '../helpers/require.js';
import { ortForward, tfjsModel, type Weights } from '../targets/onnx/helpers.js';
import { toNchw } from '../targets/torch/helpers.js';

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'runner.py');

/** One architecture, ready for every target. */
export interface Prepared {
  id: string;
  graph: CompiledGraph;
  weights: Weights;
  /** NCHW. */
  input: { data: Float32Array; dims: number[] };
  /** Whether a train-mode forward is comparable (no dropout or drop_path with a rate above 0). */
  train: boolean;
}

export interface Outputs {
  eval: Float32Array;
  /** TF.js only: the folded inference model's output (conv + BN + relu fused). */
  folded?: Float32Array;
  train?: Float32Array;
  /** Every batch norm's running_mean and running_var after the train-mode forward. */
  stats?: Map<string, Float32Array>;
}

/** Whether the graph has an op whose training forward draws random numbers. */
export function stochastic(graph: CompiledGraph): boolean {
  return graph.nodes.some((n) => (n.op === 'dropout' || n.op === 'drop_path') && n.attrs.rate > 0);
}

/** An NHWC tensor's data as NCHW; flat outputs as they are. A backbone's outputs (a list) one after another, in its order. */
function flatNchw(y: tf.Tensor | tf.Tensor[]): Float32Array {
  const parts = [y].flat().map((t) => (t.rank === 4 ? toNchw(t.dataSync() as Float32Array, t.shape) : new Float32Array(t.dataSync())));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** TF.js: eval output, the folded model's, and (when p.train) the train-mode output and the running statistics after it. */
export function runTfjs(p: Prepared): Outputs {
  const model = tfjsModel(p.graph, p.weights);
  try {
    const x = tf.tidy(() => tf.transpose(tf.tensor(p.input.data, p.input.dims), [0, 2, 3, 1]));
    const out: Outputs = { eval: tf.tidy(() => flatNchw(model.predict(x))) };
    const folded = foldForInference(model, p.graph).model;
    out.folded = tf.tidy(() => flatNchw(folded.predict(x)));
    folded.dispose();
    if (p.train) {
      out.train = tf.tidy(() => flatNchw(model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[]));
      out.stats = new Map();
      for (const [k, t] of readStateDict(model, p.graph)) if (k.endsWith('.running_mean') || k.endsWith('.running_var')) out.stats.set(k, t.data);
    }
    x.dispose();
    return out;
  } finally {
    model.dispose();
  }
}

/** Writes the emitted module, the weights and the input for runner.py; returns its job. */
export function torchJob(p: Prepared, dir: string): object {
  const base = join(dir, p.id.replace(/[^A-Za-z0-9_.-]/g, '_'));
  writeFileSync(`${base}.py`, emitTorch(p.graph, { version: 'conformance', source: `${p.id}.yaml` }));
  writeFileSync(`${base}.safetensors`, serializeSafetensors(p.weights));
  writeFileSync(`${base}.input.f32`, p.input.data);
  const [n, c, h, w] = p.input.dims;
  return { id: p.id, py: `${base}.py`, weights: `${base}.safetensors`, input: `${base}.input.f32`, batch: n, shape: [c, h, w], train: p.train };
}

/** Runs every job in one Python process; outputs (or the error) by id. */
export function runTorch(python: string, jobs: object[]): Map<string, Outputs | { error: string }> {
  const r = spawnSync(python, [RUNNER], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`runner.py failed (${r.status ?? r.error}): ${r.stderr.slice(-4000)}`);
  const out = new Map<string, Outputs | { error: string }>();
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const res = JSON.parse(line) as { id: string; error?: string; eval: number[]; train?: number[]; stats?: Record<string, number[]> };
    if (res.error !== undefined) out.set(res.id, { error: res.error });
    else
      out.set(res.id, {
        eval: Float32Array.from(res.eval),
        train: res.train && Float32Array.from(res.train),
        stats: res.stats && new Map(Object.entries(res.stats).map(([k, v]) => [k, Float32Array.from(v)])),
      });
  }
  return out;
}

/** ONNX Runtime's output for the exported file, plain or folded. */
export async function runOnnx(ort: Ort, p: Prepared, fold: boolean): Promise<Float32Array> {
  const got = await ortForward(ort, exportOnnx(p.graph, p.weights, { fold }).bytes, p.input);
  return got.data;
}
