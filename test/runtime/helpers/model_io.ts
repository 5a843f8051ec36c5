import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../../../src/compiler/index.js';
import type { Map3 } from './reference_ops.js';

/** Deterministic values in [-1, 1). */
export function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
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
