import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single, singleShape } from './common.js';

/** Mean over H and W that keeps them as 1 x 1 ([N, 1, 1, C]); tf.layers.globalAveragePooling2d drops them. */
export class GlobalAveragePooling2DKeepDims extends tf.layers.Layer {
  static className = 'GlobalAveragePooling2DKeepDims';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = singleShape(inputShape);
    return [s[0], 1, 1, s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mean(single(inputs), [1, 2], true));
  }
}
tf.serialization.registerClass(GlobalAveragePooling2DKeepDims, PACKAGE);
