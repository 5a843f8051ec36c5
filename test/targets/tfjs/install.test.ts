import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { installedFastKernels, installFastKernels, uninstallFastKernels } from '../../../src/targets/tfjs/kernels/install.js';

// A file of its own: the wasm backend must not exist before the install below.
describe('installing and removing the composed kernels', () => {
  it('works before the backend exists, and the stock kernels work again afterwards', async () => {
    expect(installFastKernels('wasm')).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Conv2D', 'FusedConv2D']);
    expect(installFastKernels('wasm')).toEqual(installedFastKernels('wasm')); // idempotent
    await tf.setBackend('wasm');
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const grad = () => Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 1, 'valid')))(x).dataSync());
    expect(grad()).toEqual([0, 0, 0, 0, 1, 1, 0, 1, 1]);
    // The wrapped forward convolutions run the stock kernel, whose setup ran with the backend's.
    const conv = () => Array.from(tf.conv2d(x, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same').dataSync());
    expect(conv()).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    uninstallFastKernels('wasm');
    expect(conv()).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    expect(installedFastKernels('wasm')).toEqual([]);
    expect(grad()).toEqual([0, 0, 0, 0, 1, 1, 0, 1, 1]); // wasm's own MaxPoolGrad, set up late
    expect(() => tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')))(tf.ones([2, 2, 1, 1]))).toThrow(
      /Conv2DBackpropFilter' not registered for backend 'wasm'/,
    );
    expect(installFastKernels('cpu')).toEqual(['Conv2DBackpropFilter', 'MaxPoolGrad']);
    expect(installFastKernels('tensorflow')).toEqual([]);
  });
});
