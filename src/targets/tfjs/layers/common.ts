import * as tf from '@tensorflow/tfjs';

export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** The one tensor a single-input layer receives. */
export function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`expected one input, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

/** The one shape a single-input layer receives. */
export function singleShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
  return Array.isArray(shape[0]) ? (shape as tf.Shape[])[0] : (shape as tf.Shape);
}

/** Package prefix of every skipgraph layer in model.json ("skipgraph>ChannelPad"). */
export const PACKAGE = 'skipgraph';
