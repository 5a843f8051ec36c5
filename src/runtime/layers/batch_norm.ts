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
 * (1 - momentum) * var / (n - 1), so running statistics match torchvision's step for step.
 * The batch variance is not computed a second time: the stock update made
 * after = momentum * before + (1 - momentum) * var, so (1 - momentum) * var = after - momentum *
 * before, a per-channel vector (recomputing the moments was a pass over every activation per
 * batch norm, about 5% of a ResNet-18 step on wasm). Inference and the normalisation itself are
 * the stock layer's.
 */
export class TorchBatchNorm extends BatchNormalization {
  static className = 'TorchBatchNorm';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (kwargs?.training !== true) return super.call(inputs, kwargs);
    const x = single(inputs);
    const n = x.size / x.shape[x.shape.length - 1];
    const before = n > 1 ? tf.clone(this.movingVariance.read()) : undefined;
    const out = super.call(inputs, kwargs);
    if (before !== undefined) {
      tf.tidy(() => {
        const after = this.movingVariance.read();
        const added = tf.sub(after, tf.mul(before, this.momentum)); // (1 - momentum) * biased variance
        this.movingVariance.write(tf.add(after, tf.mul(added, 1 / (n - 1))));
      });
      before.dispose();
    }
    return out;
  }
}
// The parent (not exported by TF.js) has fromConfig; its type, taken from an instance, does not show it.
tf.serialization.registerClass(TorchBatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>, PACKAGE);
