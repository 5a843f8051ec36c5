import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single } from './common.js';

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** TF.js does not export its BatchNormalization class; take it from an instance. */
type Variable = { read(): tf.Tensor; write(t: tf.Tensor): void };
const BatchNormalization = tf.layers.batchNormalization({}).constructor as unknown as new (args: BatchNormArgs) => tf.layers.Layer & {
  momentum: number;
  epsilon: number;
  gamma: Variable;
  beta: Variable;
  movingMean: Variable;
  movingVariance: Variable;
};

/**
 * Batch norm with PyTorch's running-variance update. Keras (and so TF.js) adds the biased batch
 * variance (sum / n) into the moving variance; PyTorch adds the unbiased one (sum / (n - 1)),
 * while both normalise with the biased one. The training call is the stock layer's (one
 * `moments`, one `batchNorm`, the two moving averages) with the variance scaled by n / (n - 1)
 * in the moving average only, so running statistics match torchvision's step for step, at the
 * stock layer's cost. (Correcting after the stock update instead cost a second pass over the
 * activations, or a dozen extra small kernels, per batch norm.) Inference is the stock layer's.
 * skipgraph emits it with axis -1, gamma and beta; anything else takes the stock path.
 */
export class TorchBatchNorm extends BatchNormalization {
  static className = 'TorchBatchNorm';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = single(inputs);
    const axis = (this as unknown as { axis: number }).axis;
    const lastAxis = axis === -1 || axis === x.rank - 1;
    if (kwargs?.training !== true || !lastAxis || x.rank !== 4 || this.gamma == null || this.beta == null) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const n = x.size / (x.shape[3] as number);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const out = tf.batchNorm4d(x as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, this.beta.read() as tf.Tensor1D, this.gamma.read() as tf.Tensor1D, this.epsilon);
      // running = momentum * running + (1 - momentum) * scale * batch, PyTorch's form (three
      // kernels, as the stock update's), with the unbiased scale n / (n - 1) for the variance.
      const movingAverage = (v: Variable, batch: tf.Tensor, scale: number) =>
        tf.tidy(() => v.write(tf.add(tf.mul(v.read(), this.momentum), tf.mul(batch, (1 - this.momentum) * scale))));
      movingAverage(this.movingMean, mean, 1);
      movingAverage(this.movingVariance, variance, n > 1 ? n / (n - 1) : 1);
      return out;
    });
  }
}
// The parent (not exported by TF.js) has fromConfig; its type, taken from an instance, does not show it.
tf.serialization.registerClass(TorchBatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>, PACKAGE);
