import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single } from './common.js';

/**
 * PyTorch's piecewise-linear activations, which TF.js lacks (its `hardSigmoid` is Keras's
 * 0.2 * x + 0.5, not PyTorch's relu6(x + 3) / 6). Built from relu6, add and mul, whose
 * gradients TF.js has, so they train.
 */
abstract class Elementwise extends tf.layers.Layer {
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}

/** relu6(x + 3) / 6 (nn.Hardsigmoid; MobileNetV3's SE gate). */
const hardSigmoid = (x: tf.Tensor) => tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6);

export class HardSigmoid extends Elementwise {
  static className = 'HardSigmoid';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => hardSigmoid(single(inputs)));
  }
}
tf.serialization.registerClass(HardSigmoid, PACKAGE);

/** x * relu6(x + 3) / 6 (nn.Hardswish; MobileNetV3). */
export class HardSwish extends Elementwise {
  static className = 'HardSwish';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      return tf.mul(x, hardSigmoid(x));
    });
  }
}
tf.serialization.registerClass(HardSwish, PACKAGE);
