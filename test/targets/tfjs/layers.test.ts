import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { ChannelPad, GroupedConv2D, NegInfPadding2D, Subsample } from '../../../src/targets/tfjs/layers/index.js';
import { maxAbsDiff } from './helpers/reference_conv.js';
import { values } from './helpers/model_io.js';

/** The custom layers train: their gradients are those of the operations they stand for. */
beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
});

describe('custom layer gradients', () => {
  it('GroupedConv2D: input and kernel gradients equal those of the block-diagonal full convolution', () => {
    const groups = 3;
    const [cin, cout] = [6, 9];
    const layer = new GroupedConv2D({
      filters: cout, kernelSize: [3, 3], strides: [2, 2], dilationRate: [1, 1], groups, padding: 'same', useBias: true,
      kernelInitializer: tf.initializers.randomNormal({ stddev: 0.3, seed: 1 }),
      biasInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 2 }),
    });
    const x = tf.tensor4d(values(2 * 7 * 7 * cin, 3), [2, 7, 7, cin]);
    layer.apply(tf.zeros([1, 7, 7, cin]));
    const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D];
    expect(kernel.shape).toEqual([3, 3, cin / groups, cout]);
    const w = tf.tensor4d(values(2 * 4 * 4 * cout, 4), [2, 4, 4, cout]);
    // [3, 3, cin, cout], zero outside each group's block
    const full = tf.tidy(() => {
      const blocks = tf.split(kernel, groups, 3).map((k, g) =>
        tf.pad(k, [[0, 0], [0, 0], [g * (cin / groups), cin - (g + 1) * (cin / groups)], [0, 0]]),
      );
      return tf.concat(blocks, 3) as tf.Tensor4D;
    });
    const mask = tf.notEqual(full, 0).cast('float32');
    const grouped = tf.grads((a: tf.Tensor, k: tf.Tensor) => {
      layer.setWeights([k, bias]);
      return tf.sum(tf.mul(layer.apply(a) as tf.Tensor, w));
    });
    const dense = tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, 2, 'same'), bias), w)));
    const [gx, gk] = grouped([x, kernel]);
    const [fx, fk] = dense([x, full]);
    expect(maxAbsDiff(gx.dataSync(), fx.dataSync())).toBeLessThan(1e-4);
    // the grouped kernel gradient is the dense one's blocks
    const blocksOfDense = tf.concat(tf.split(tf.mul(fk, mask), groups, 3).map((b, g) => tf.slice(b, [0, 0, g * (cin / groups), 0], [3, 3, cin / groups, cout / groups])), 3);
    expect(maxAbsDiff(gk.dataSync(), blocksOfDense.dataSync())).toBeLessThan(1e-4);
    expect(gk.abs().max().dataSync()[0]).toBeGreaterThan(0);
  });

  it('Subsample: the gradient lands on every stride-th position only', () => {
    const layer = new Subsample({ stride: [2, 2] });
    const x = tf.tensor4d(values(1 * 5 * 5 * 2, 1), [1, 5, 5, 2]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 3, 3, 2]);
    const w = tf.tensor4d(values(18, 2), [1, 3, 3, 2]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a) as tf.Tensor, w)))(x).dataSync();
    const wv = w.dataSync();
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++)
        for (let c = 0; c < 2; c++) {
          const expected = i % 2 === 0 && j % 2 === 0 ? wv[((i / 2) * 3 + j / 2) * 2 + c] : 0;
          expect(g[(i * 5 + j) * 2 + c]).toBeCloseTo(expected, 6);
        }
  });

  it('ChannelPad and NegInfPadding2D pass gradients to the real values only', () => {
    const x = tf.tensor4d(values(1 * 4 * 4 * 3, 5), [1, 4, 4, 3]);
    const pad = new ChannelPad({ before: 2, after: 1 });
    const gp = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pad.apply(a) as tf.Tensor, tf.range(0, 6).reshape([1, 1, 1, 6]))))(x).dataSync();
    for (let p = 0; p < 16; p++) expect(Array.from(gp.slice(p * 3, p * 3 + 3))).toEqual([2, 3, 4]);
    const neg = new NegInfPadding2D({ padding: [[1, 1], [1, 1]] });
    const pool = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' });
    const out = pool.apply(neg.apply(tf.neg(tf.abs(x)))) as tf.Tensor;
    expect(out.dataSync().every((v) => Number.isFinite(v) && v <= 0)).toBe(true);
    const g = tf.grad((a: tf.Tensor) => tf.sum(pool.apply(neg.apply(a)) as tf.Tensor))(x).dataSync();
    expect(Array.from(g).reduce((s, v) => s + v, 0)).toBeCloseTo(out.size, 5); // each window's max gets 1
  });
});
