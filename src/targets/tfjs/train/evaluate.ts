import * as tf from '@tensorflow/tfjs';
import { DataLoader } from '../data/loader.js';
import type { ImageSet } from '../../../data/dataset.js';

export interface Evaluation {
  count: number;
  /** Mean softmax cross-entropy on the logits (no smoothing). */
  loss: number;
  top1: number;
  top5: number;
  /** confusion[true][predicted]: counts. */
  confusion: number[][];
  /** Accuracy of each true class (NaN for a class with no sample). */
  perClass: number[];
}

/**
 * Evaluates `model` (logits out) on `set` in batches: loss, top-1, top-5 (top-k with k at most
 * the number of classes), per-class accuracy and the confusion matrix. Computed from the
 * downloaded logits in plain JavaScript, so it works on every backend (tf.math.confusionMatrix
 * throws on wasm). A prediction is the first of the largest logits, as argMax.
 *
 * The logits are read with `await data()`, never `dataSync()`: a GPU tensor cannot be read
 * synchronously in Node (WebGPU's sync read needs OffscreenCanvas, which Node lacks), so a sync
 * read here ended every `--backend webgpu` run at its first evaluation.
 */
export async function evaluate(model: tf.LayersModel, set: ImageSet, options: { batchSize?: number } = {}): Promise<Evaluation> {
  const K = set.classes;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let loss = 0;
  let top1 = 0;
  let top5 = 0;
  const k5 = Math.min(5, K);
  for (const b of new DataLoader(set, { batchSize: options.batchSize ?? 256 }).epoch(0)) {
    const out = tf.tidy(() => model.predict(tf.tensor4d(b.x, b.shape)) as tf.Tensor);
    let logits: Float32Array;
    try {
      logits = (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
    for (let n = 0; n < b.shape[0]; n++) {
      const row = logits.subarray(n * K, (n + 1) * K);
      const label = b.labels[n];
      let best = 0;
      let max = -Infinity;
      for (let j = 0; j < K; j++) if (row[j] > max) ((max = row[j]), (best = j));
      let sum = 0;
      for (let j = 0; j < K; j++) sum += Math.exp(row[j] - max);
      loss += Math.log(sum) + max - row[label];
      // rank of the true class: classes with a larger logit, or an equal one earlier
      let rank = 0;
      for (let j = 0; j < K; j++) if (row[j] > row[label] || (row[j] === row[label] && j < label)) rank++;
      if (rank === 0) top1++;
      if (rank < k5) top5++;
      confusion[label][best]++;
    }
  }
  const count = set.count;
  const perClass = confusion.map((r, i) => {
    const total = r.reduce((a, v) => a + v, 0);
    return total === 0 ? Number.NaN : r[i] / total;
  });
  return { count, loss: loss / count, top1: top1 / count, top5: top5 / count, confusion, perClass };
}

/** The confusion matrix as text: one row per true class, one column per prediction. */
export function formatConfusion(e: Evaluation, names?: string[]): string[] {
  const K = e.confusion.length;
  const label = (i: number) => names?.[i] ?? String(i);
  const width = Math.max(...e.confusion.flat().map((v) => String(v).length), ...Array.from({ length: K }, (_, i) => label(i).length), 4);
  const first = Math.max(...Array.from({ length: K }, (_, i) => label(i).length), 'true\\pred'.length);
  const pad = (s: string, w: number) => s.padStart(w);
  const lines = [`${'true\\pred'.padEnd(first)} ${Array.from({ length: K }, (_, i) => pad(label(i), width)).join(' ')}   acc`];
  e.confusion.forEach((row, i) => {
    const acc = Number.isNaN(e.perClass[i]) ? '   -' : `${(100 * e.perClass[i]).toFixed(1)}%`;
    lines.push(`${label(i).padEnd(first)} ${row.map((v) => pad(String(v), width)).join(' ')}  ${acc.padStart(6)}`);
  });
  return lines;
}
