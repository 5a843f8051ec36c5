import * as tf from '@tensorflow/tfjs';
import { deserializeInitializer, isInitializer, serializeInitializer, type Initializer } from '../init.js';
import { PACKAGE, single, singleShape, type LayerArgs } from './common.js';

/**
 * ConvNeXt's layer scale: x * gamma, one trainable gain per channel. The variable is held as
 * PyTorch holds it, [C, 1, 1] (so weights move between the targets unchanged), and read as [C]
 * against the channels-last input.
 */
export class LayerScale extends tf.layers.Layer {
  static className = 'LayerScale';
  private gamma: tf.LayerVariable | null = null;
  private readonly gammaInitializer: Initializer;

  constructor(args: LayerArgs & { gammaInitializer: Initializer | tf.serialization.ConfigDict }) {
    super(args);
    const init = args.gammaInitializer;
    this.gammaInitializer = isInitializer(init) ? init : deserializeInitializer(init);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const c = singleShape(inputShape).at(-1);
    if (typeof c !== 'number') throw new Error(`${this.name}: the channel count must be known`);
    this.gamma = this.addWeight('gamma', [c, 1, 1], 'float32', this.gammaInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const g = this.gamma!.read();
      return tf.mul(x, tf.reshape(g, [g.shape[0]]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), gammaInitializer: serializeInitializer(this.gammaInitializer) };
  }
}
tf.serialization.registerClass(LayerScale, PACKAGE);
