import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single, type LayerArgs } from './common.js';

/**
 * Stochastic depth (Huang et al. 2016), as timm's DropPath: in training each sample's residual
 * branch is kept with probability 1 - rate and then scaled by 1 / (1 - rate), so its expectation
 * is the input; at inference it is the identity. The mask is one number per sample, broadcast
 * over height, width and channels.
 */
export class DropPath extends tf.layers.Layer {
  static className = 'DropPath';
  readonly rate: number;

  constructor(args: LayerArgs & { rate: number }) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`${this.name}: drop_path rate ${args.rate} is not in [0, 1)`);
    this.rate = args.rate;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const x = single(inputs);
    if (kwargs?.training !== true || this.rate === 0) return x;
    return tf.tidy(() => {
      const keep = 1 - this.rate;
      const shape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
      // floor(keep + U[0, 1)) is 1 with probability keep: the per-sample Bernoulli mask.
      const mask = tf.floor(tf.add(tf.randomUniform(shape, 0, 1), keep));
      return tf.mul(x, tf.div(mask, keep));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(DropPath, PACKAGE);
