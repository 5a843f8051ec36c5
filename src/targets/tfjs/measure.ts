import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../../compiler/types.js';
import { buildModel } from './build.js';

/**
 * The median of `runs` timed forward passes (batch 1, after one warm-up) of `graph`'s model on
 * the current backend, in milliseconds (`sweep --measure`).
 */
export async function timeForward(graph: CompiledGraph, runs = 5): Promise<number> {
  const model = buildModel(graph, { probe: false });
  const { height, width, channels } = graph.input;
  const x = tf.zeros([1, height, width, channels]);
  try {
    return await medianTime(async () => {
      // A backbone returns one tensor per feature: every one is waited for.
      const ys = [model.predict(x)].flat();
      await Promise.all(ys.map((y) => y.data()));
      tf.dispose(ys);
    }, runs);
  } finally {
    x.dispose();
    model.dispose();
  }
}

/**
 * The median of `runs` timed calls of `once`, in milliseconds, after one untimed call (the
 * warm-up: kernels and shaders compile there). `once` must wait for its results (`await data()`).
 */
export async function medianTime(once: () => Promise<void>, runs: number): Promise<number> {
  await once();
  const samples: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    await once();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
