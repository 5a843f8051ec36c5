import * as tf from '@tensorflow/tfjs';
import { PACKAGE, single, singleShape, type LayerArgs } from './common.js';

/** Adds zero channels before and after the existing ones (the CIFAR "option A" shortcut). */
export class ChannelPad extends tf.layers.Layer {
  static className = 'ChannelPad';
  readonly before: number;
  readonly after: number;

  constructor(args: LayerArgs & { before: number; after: number }) {
    super(args);
    this.before = args.before;
    this.after = args.after;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = singleShape(inputShape);
    const c = s[s.length - 1];
    return [...s.slice(0, -1), c === null ? null : c + this.before + this.after];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const paddings = x.shape.map((): [number, number] => [0, 0]);
      paddings[paddings.length - 1] = [this.before, this.after];
      return tf.pad(x, paddings);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), before: this.before, after: this.after };
  }
}
tf.serialization.registerClass(ChannelPad, PACKAGE);
