import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { maxRelDiff } from './helpers/model_io.js';
import { skipWithout } from '../../helpers/require.js';
import { registerWebGpu, shutdownWebGpu, webGpuErrors, webGpuKernelFixes } from '../../../src/targets/tfjs/backends/webgpu.js';
import { installedWebGpuDirectConv, installWebGpuDirectConv, uninstallWebGpuDirectConv, WEBGPU_DIRECT_CONV_KERNELS } from '../../../src/targets/tfjs/backends/webgpu_conv.js';

/**
 * skipgraph's register-blocked convolution shaders for WebGPU (installed on software adapters)
 * against cpu: forward, fused bias + relu, dx and dw, over strides 1-3, same/valid/explicit
 * padding, channel counts that take the vec4 x 2, vec4 and scalar paths, odd sizes, and a filter
 * gradient split into batch slices; and the channel reductions (Sum/Mean over leading axes). Tolerance 2e-5 of the largest |value| (measured <= 6e-6).
 */

const cpuBackend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
if (cpuBackend !== null) cpuBackend.firstUse = false;

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const CASES: { x: number[]; w: number[]; stride: number; pad: Pad }[] = [
  { x: [2, 7, 9, 3], w: [3, 3, 3, 8], stride: 1, pad: 'same' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 10], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 12], w: [3, 3, 12, 12], stride: 2, pad: 'valid' },
  { x: [3, 9, 7, 1], w: [3, 3, 1, 16], stride: 1, pad: 'same' },
  { x: [2, 6, 6, 16], w: [1, 1, 16, 32], stride: 2, pad: 'valid' },
  { x: [2, 10, 11, 8], w: [5, 3, 8, 4], stride: 2, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  { x: [4, 5, 5, 5], w: [2, 2, 5, 6], stride: 3, pad: 'same' },
  { x: [24, 6, 6, 2], w: [3, 3, 2, 4], stride: 1, pad: 'same' }, // dw split into batch slices
];

const values = (shape: number[], seed: number) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7 + seed) + 0.3 * Math.cos(i * 0.013));

async function read(backend: string, c: (typeof CASES)[number]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(c.x, 1), c.x as [number, number, number, number]);
  const w = tf.tensor4d(values(c.w, 2), c.w as [number, number, number, number]);
  const bias = tf.tensor1d(values([c.w[3]], 3));
  const y = tf.conv2d(x, w, c.stride, c.pad);
  const fused = tf.fused.conv2d({ x, filter: w, strides: c.stride, pad: c.pad, bias, activation: 'relu' });
  const dy = tf.tensor(values(y.shape, 4), y.shape);
  const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(xx, ww, c.stride, c.pad), dy));
  const dx = tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor4D, w))(x);
  const dw = tf.grad((ww: tf.Tensor) => loss(x, ww as tf.Tensor4D))(w);
  const outs = [y, fused, dx, dw];
  const data = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([x, w, bias, dy, ...outs]);
  return data;
}

let reason: string | undefined;
try {
  await registerWebGpu({ allowSoftware: true });
  if (!(await tf.setBackend('webgpu'))) reason = "tf.setBackend('webgpu') failed";
} catch (err) {
  reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

describe.skipIf(skipWithout('webgpu direct convolutions (Mesa llvmpipe)', reason))('webgpu: direct convolution shaders against cpu', () => {
  afterAll(() => shutdownWebGpu());

  it('are installed on a software adapter and listed with the fixes', () => {
    const installedBefore = installedWebGpuDirectConv().length > 0;
    if (installedBefore) expect(webGpuKernelFixes()).toEqual(expect.arrayContaining(WEBGPU_DIRECT_CONV_KERNELS));
    expect(installWebGpuDirectConv()).toEqual(WEBGPU_DIRECT_CONV_KERNELS);
  });

  it('match cpu: forward, fused bias + relu, dx, dw', async () => {
    installWebGpuDirectConv();
    const backend = tf.findBackend('webgpu') as unknown as { runWebGPUProgram: (p: { shaderKey: string }, ...rest: unknown[]) => unknown };
    const run = backend.runWebGPUProgram.bind(backend);
    const used = new Set<string>();
    backend.runWebGPUProgram = (p, ...rest) => {
      used.add(p.shaderKey.split('_').slice(0, 3).join('_'));
      return run(p, ...rest);
    };
    try {
      for (const c of CASES) {
        const cpu = await read('cpu', c);
        const gpu = await read('webgpu', c);
        const errors = cpu.map((v, i) => maxRelDiff(gpu[i], v));
        expect(Math.max(...errors), `${JSON.stringify(c)}: ${errors.join(', ')}`).toBeLessThanOrEqual(2e-5);
      }
    } finally {
      backend.runWebGPUProgram = run;
    }
    // The shaders ran, rather than the stock kernels they fall back to.
    expect([...used]).toEqual(expect.arrayContaining(['skipgraph_conv_dw', 'skipgraph_conv_dx', 'skipgraph_conv_fwd', 'skipgraph_slice_sum']));
    expect(webGpuErrors()).toEqual([]);
  });

  it('fall back to the stock kernels for what they do not handle (dilation)', async () => {
    const c = { x: [1, 9, 9, 4], w: [3, 3, 4, 4] };
    const dilated = async (b: string) => {
      await tf.setBackend(b);
      const y = tf.conv2d(tf.tensor4d(values(c.x, 1), [1, 9, 9, 4]), tf.tensor4d(values(c.w, 2), [3, 3, 4, 4]), 1, 'same', 'NHWC', 2);
      return (await y.data()) as Float32Array;
    };
    expect(maxRelDiff(await dilated('webgpu'), await dilated('cpu'))).toBeLessThanOrEqual(2e-5);
  });

  it('sum and mean over every axis but the channels (batch-norm statistics) match cpu', async () => {
    const cases: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
      { shape: [16, 14, 14, 16], axis: [0, 1, 2], keepDims: false }, // sliced rows, vec4
      { shape: [4, 7, 7, 32], axis: [2, 0, 1], keepDims: true },
      { shape: [3, 5, 7], axis: [-3, -2], keepDims: false }, // scalar columns
      { shape: [2, 3], axis: [0], keepDims: true },
      { shape: [4, 6, 8], axis: [1], keepDims: false }, // not leading axes: the stock kernel
    ];
    const reduce = async (b: string, c: (typeof cases)[number]) => {
      await tf.setBackend(b);
      const x = tf.tensor(values(c.shape, 5), c.shape);
      const outs = [tf.sum(x, c.axis, c.keepDims), tf.mean(x, c.axis, c.keepDims)];
      const data = await Promise.all(outs.map(async (t) => ({ shape: t.shape, v: (await t.data()) as Float32Array })));
      tf.dispose([x, ...outs]);
      return data;
    };
    for (const c of cases) {
      const cpu = await reduce('cpu', c);
      const gpu = await reduce('webgpu', c);
      cpu.forEach((r, i) => {
        expect(gpu[i].shape).toEqual(r.shape);
        expect(maxRelDiff(gpu[i].v, r.v), JSON.stringify(c)).toBeLessThanOrEqual(2e-5);
      });
    }
    expect(webGpuErrors()).toEqual([]);
  });

  it('uninstall puts the stock kernels back', () => {
    const before = tf.getKernel('Conv2D', 'webgpu');
    uninstallWebGpuDirectConv();
    expect(installedWebGpuDirectConv()).toEqual([]);
    expect(tf.getKernel('Conv2D', 'webgpu')).not.toBe(before);
    installWebGpuDirectConv();
  });
});
