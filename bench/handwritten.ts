/**
 * A hand-written TF.js layers ResNet-18 (torchvision structure) with the padding scheme skipgraph
 * emits for an even input: stride-1 3x3 convs 'same'; stride-2 convs an explicit zero pad then
 * 'valid'; the stem max-pool a -inf pad then 'valid'; 1x1 stride-2 projections 'valid'.
 * No bias on convs, batch norm momentum 0.9 / epsilon 1e-5, global average pool, dense.
 * The reference for the runtime-overhead case in bench/run.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { NegInfPadding2D } from '../src/targets/tfjs/layers/index.js';

type SymT = tf.SymbolicTensor;

function conv(x: SymT, filters: number, kernel: number, stride: number): SymT {
  const pad = Math.floor(kernel / 2);
  if (stride === 1) return tf.layers.conv2d({ filters, kernelSize: kernel, strides: 1, padding: 'same', useBias: false }).apply(x) as SymT;
  const src = pad > 0 ? (tf.layers.zeroPadding2d({ padding: [[pad, pad], [pad, pad]] }).apply(x) as SymT) : x;
  return tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'valid', useBias: false }).apply(src) as SymT;
}
const bn = (x: SymT): SymT => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(x) as SymT;
const relu = (x: SymT): SymT => tf.layers.activation({ activation: 'relu' }).apply(x) as SymT;

function basic(x: SymT, channels: number, stride: number): SymT {
  const inC = x.shape[3];
  let y = relu(bn(conv(x, channels, 3, stride)));
  y = bn(conv(y, channels, 3, 1));
  const short = stride !== 1 || inC !== channels ? bn(conv(x, channels, 1, stride)) : x;
  return relu(tf.layers.add().apply([y, short]) as SymT);
}

export function handwrittenResnet18(height: number, width: number, classes: number): tf.LayersModel {
  const input = tf.input({ shape: [height, width, 3] });
  let x = relu(bn(conv(input, 64, 7, 2)));
  x = new NegInfPadding2D({ padding: [[1, 1], [1, 1]] } as never).apply(x) as SymT;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }).apply(x) as SymT;
  for (const [channels, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]]) {
    x = basic(x, channels, stride);
    x = basic(x, channels, 1);
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as SymT;
  const out = tf.layers.dense({ units: classes }).apply(x) as SymT;
  return tf.model({ inputs: input, outputs: out });
}
