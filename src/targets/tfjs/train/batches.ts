import * as tf from '@tensorflow/tfjs';
import { batchArrays, type ImageSet } from '../../../data/dataset.js';

/** Batches of `set` in `order` as {xs, ys} tensors (normalised NHWC, one-hot), for fitDataset. */
export function* batches(set: ImageSet, order: ArrayLike<number>, size: number): Generator<{ xs: tf.Tensor4D; ys: tf.Tensor2D }> {
  for (let start = 0; start < order.length; start += size) {
    const end = Math.min(order.length, start + size);
    const { x, y } = batchArrays(set, order, start, end);
    yield {
      xs: tf.tensor4d(x, [end - start, set.height, set.width, set.channels]),
      ys: tf.tensor2d(y, [end - start, set.classes]),
    };
  }
}

export function identityOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}
