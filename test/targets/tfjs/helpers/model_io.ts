import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../../../../src/compiler/index.js';
import { lcg32 } from '../../../../src/random/index.js';
import type { Map3 } from './reference_ops.js';

/** Deterministic values in [-1, 1) (src/random's lcg32). */
export function values(size: number, seed: number): Float32Array {
  const u = lcg32(seed >>> 0 || 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = u() * 2 - 1;
  return out;
}

/** The input and output of node `id` for one image `x` (inference mode). */
export function nodeIO(model: tf.LayersModel, graph: CompiledGraph, id: string, x: Float32Array): { input: Map3; output: Map3 } {
  const node = graph.nodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`no node ${id}`);
  const probe = tf.model({
    inputs: model.inputs,
    outputs: [model.getLayer(node.inputs[0]).output as tf.SymbolicTensor, model.getLayer(id).output as tf.SymbolicTensor],
  });
  const { height, width, channels } = graph.input;
  const [a, b] = tf.tidy(() => (probe.predict(tf.tensor4d(x, [1, height, width, channels])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
  const map = (shape: number[], data: Float32Array): Map3 => ({ h: shape[0], w: shape[1], c: shape[2], data });
  const inputShape = graph.nodes.find((n) => n.id === node.inputs[0])!.shape;
  return { input: map(inputShape, a), output: map(node.shape, b) };
}

/**
 * Gives every batch norm statistics far from the defaults (mean 0, var 1, gamma 1, beta 0), so a
 * fold that ignored any of the four would show: mean and beta in [-1, 1), gamma in [0.5, 1.5),
 * var in [0.25, 2.25).
 */
export function randomiseBatchNorms(model: tf.LayersModel, seed: number): void {
  let k = seed;
  for (const w of model.weights) {
    const name = w.originalName;
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const v = values(n, k++);
    if (name.endsWith('/gamma')) w.write(tf.tensor(v.map((x) => 1 + x / 2), shape));
    else if (name.endsWith('/beta') || name.endsWith('/moving_mean')) w.write(tf.tensor(v, shape));
    else if (name.endsWith('/moving_variance')) w.write(tf.tensor(v.map((x) => 1.25 + x), shape));
  }
}

/** Largest |value - reference|, relative to the largest |reference|. */
export function maxRelDiff(values: ArrayLike<number>, reference: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(values[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

/** maxRelDiff of two tensors; the first is the reference. */
export async function relativeDiff(reference: tf.Tensor, other: tf.Tensor): Promise<number> {
  const [r, o] = await Promise.all([reference.data(), other.data()]);
  return maxRelDiff(o, r);
}
