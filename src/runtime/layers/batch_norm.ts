import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single } from './common.js';

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** TF.js does not export its BatchNormalization class; take it from an instance. */
const BatchNormalization = tf.layers.batchNormalization({}).constructor as unknown as new (args: BatchNormArgs) => tf.layers.Layer & {
  momentum: number;
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
};

/**
 * Batch norm with PyTorch's running-variance update. Keras (and so TF.js) adds the biased batch
 * variance (sum / n) into the moving variance; PyTorch adds the unbiased one (sum / (n - 1)),
 * while both normalise with the biased one. After the stock update this adds the difference,
 * (1 - momentum) * var * (1 / (n - 1)), so running statistics match torchvision's step for step.
 * Inference and the normalisation itself are the stock layer's.
 */
export class TorchBatchNorm extends BatchNormalization {
  static className = 'TorchBatchNorm';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const out = super.call(inputs, kwargs);
    if (kwargs?.training !== true) return out;
    const x = single(inputs);
    const n = x.size / x.shape[x.shape.length - 1];
    if (n > 1) {
      tf.tidy(() => {
        const axes = x.shape.map((_, i) => i).slice(0, -1);
        const { variance } = tf.moments(x, axes);
        const moving = this.movingVariance.read();
        this.movingVariance.write(tf.add(moving, tf.mul(variance, (1 - this.momentum) / (n - 1))));
      });
    }
    return out;
  }
}
// The parent (not exported by TF.js) has fromConfig; its type, taken from an instance, does not show it.
tf.serialization.registerClass(TorchBatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>, PACKAGE);
