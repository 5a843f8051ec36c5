import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single, singleShape, type LayerArgs } from './common.js';

/**
 * x[:, ::sh, ::sw, :] (the CIFAR "option A" shortcut). Written as pad-to-a-multiple, reshape and
 * slice rather than a strided slice, because TF.js has no gradient for StridedSlice.
 */
export class Subsample extends tf.layers.Layer {
  static className = 'Subsample';
  readonly stride: [number, number];

  constructor(args: LayerArgs & { stride: [number, number] }) {
    super(args);
    this.stride = [args.stride[0], args.stride[1]];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = singleShape(inputShape);
    const [sh, sw] = this.stride;
    return [n, h === null ? null : Math.ceil(h / sh), w === null ? null : Math.ceil(w / sw), c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const [sh, sw] = this.stride;
      const oh = Math.ceil(h / sh);
      const ow = Math.ceil(w / sw);
      const padded = oh * sh === h && ow * sw === w ? x : tf.pad(x, [[0, 0], [0, oh * sh - h], [0, ow * sw - w], [0, 0]]);
      const grid = tf.reshape(padded, [n, oh, sh, ow, sw, c]);
      const picked = tf.slice(grid, [0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c]);
      return tf.reshape(picked, [n, oh, ow, c]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), stride: [...this.stride] };
  }
}
tf.serialization.registerClass(Subsample, PACKAGE);
