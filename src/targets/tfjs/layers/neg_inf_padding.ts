import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single, singleShape, type LayerArgs } from './common.js';

/**
 * Spatial padding with -Infinity, so that a following 'valid' max-pool behaves like PyTorch's
 * padded MaxPool2d (padding never wins) whatever the sign of the input.
 */
export class NegInfPadding2D extends tf.layers.Layer {
  static className = 'NegInfPadding2D';
  /** [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];

  constructor(args: LayerArgs & { padding: [[number, number], [number, number]] }) {
    super(args);
    const [[t, b], [l, r]] = args.padding;
    this.padding = [[t, b], [l, r]];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = singleShape(inputShape);
    const [[t, b], [l, r]] = this.padding;
    return [n, h === null ? null : h + t + b, w === null ? null : w + l + r, c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.pad(single(inputs), [[0, 0], this.padding[0], this.padding[1], [0, 0]], -Infinity));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]) };
  }
}
tf.serialization.registerClass(NegInfPadding2D, PACKAGE);
