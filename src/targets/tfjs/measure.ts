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
    const once = async () => {
      const t = performance.now();
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
      return performance.now() - t;
    };
    await once();
    const samples: number[] = [];
    for (let k = 0; k < runs; k++) samples.push(await once());
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)];
  } finally {
    x.dispose();
    model.dispose();
  }
}
