import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastGradients, installFastKernels, uninstallFastGradients, uninstallFastKernels } from '../../../src/targets/tfjs/kernels/install.js';
import { setPatchBudget } from '../../../src/targets/tfjs/kernels/conv2d_backprop_filter.js';
import { setBackpropInputMethod } from '../../../src/targets/tfjs/kernels/conv2d_backprop_input.js';
import { setKernelTrace } from '../../../src/targets/tfjs/kernels/scope.js';
import { maxAbsDiff, refBackpropFilter, refBackpropInput, type RefConv } from './helpers/reference_conv.js';
import { values } from './helpers/model_io.js';

type Pad = 'valid' | 'same' | tf.backend_util.ExplicitPadding;
interface Case {
  x: number[];
  f: number[];
  stride: [number, number];
  pad: Pad;
  seed: number;
}

const padArb: fc.Arbitrary<Pad> = fc.oneof(
  fc.constant<Pad>('valid'),
  fc.constant<Pad>('same'),
  fc
    .tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3))
    .map(([t, b, l, r]): Pad => [[0, 0], [t, b], [l, r], [0, 0]]),
);
const caseArb: fc.Arbitrary<Case> = fc.record({
  x: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 })),
  f: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 })),
  stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  pad: padArb,
  seed: fc.nat(),
}).map((c) => ({ ...c, f: [c.f[0], c.f[1], c.x[3], c.f[2]] }));

function geometry(c: Case): RefConv | undefined {
  const [n, h, w, ch] = c.x;
  const [kh, kw, , co] = c.f;
  const padded = typeof c.pad === 'string' ? [0, 0, 0, 0] : [c.pad[1][0], c.pad[1][1], c.pad[2][0], c.pad[2][1]];
  if (c.pad !== 'same' && (h + padded[0] + padded[1] < kh || w + padded[2] + padded[3] < kw)) return undefined;
  const info = tf.backend_util.computeConv2DInfo([n, h, w, ch], [kh, kw, ch, co], c.stride, 1, c.pad);
  if (info.outHeight < 1 || info.outWidth < 1) return undefined;
  return {
    n, h, w, c: ch, co, kh, kw, oh: info.outHeight, ow: info.outWidth,
    sh: c.stride[0], sw: c.stride[1], top: info.padInfo.top, left: info.padInfo.left,
  };
}


async function onBackend(name: string, fn: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(name);
  const t = fn();
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

const cases = fc
  .sample(caseArb, { seed: 20240601, numRuns: 200 })
  .map((c) => ({ c, g: geometry(c) }))
  .filter((e): e is { c: Case; g: RefConv } => e.g !== undefined)
  .slice(0, 40);
// ResNet-shaped cases, including a stride-2 3x3 and a stride-2 1x1 downsample.
const resnetCases: Case[] = [
  { x: [2, 8, 8, 16], f: [3, 3, 16, 16], stride: [1, 1], pad: [[0, 0], [1, 1], [1, 1], [0, 0]], seed: 1 },
  { x: [2, 8, 8, 16], f: [3, 3, 16, 32], stride: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]], seed: 2 },
  { x: [2, 7, 7, 8], f: [1, 1, 8, 16], stride: [2, 2], pad: 'valid', seed: 3 },
  { x: [2, 16, 16, 3], f: [7, 7, 3, 8], stride: [2, 2], pad: [[0, 0], [3, 3], [3, 3], [0, 0]], seed: 4 },
  // Stride 1, output as big as the input (the filter gradient's shifted-plane path): even kernels
  // (uneven 'same' padding), 1x1, a 5x5 wider than one side, and one image.
  { x: [3, 5, 6, 4], f: [2, 4, 4, 3], stride: [1, 1], pad: 'same', seed: 5 },
  { x: [2, 4, 4, 8], f: [1, 1, 8, 8], stride: [1, 1], pad: 'valid', seed: 6 },
  { x: [2, 3, 4, 2], f: [5, 5, 2, 3], stride: [1, 1], pad: [[0, 0], [2, 2], [2, 2], [0, 0]], seed: 7 },
  { x: [1, 6, 2, 3], f: [3, 3, 3, 2], stride: [1, 1], pad: 'same', seed: 8 },
  // Taps that only meet padding (ResNet-18's last stage at 32x32 input): 8 of 9, then 5 of 9.
  { x: [2, 1, 1, 8], f: [3, 3, 8, 4], stride: [1, 1], pad: [[0, 0], [1, 1], [1, 1], [0, 0]], seed: 9 },
  { x: [2, 2, 2, 4], f: [3, 3, 4, 4], stride: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]], seed: 10 },
];
for (const c of resnetCases) cases.push({ c, g: geometry(c)! });

function filterGrad(c: Case, x: Float32Array, dy: Float32Array, g: RefConv): tf.Tensor {
  const xt = tf.tensor4d(x, c.x as [number, number, number, number]);
  const dyt = tf.tensor4d(dy, [g.n, g.oh, g.ow, g.co]);
  const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, {
    strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  xt.dispose();
  dyt.dispose();
  return out;
}

function inputGrad(c: Case, dy: Float32Array, w: Float32Array, g: RefConv): tf.Tensor {
  const dyt = tf.tensor4d(dy, [g.n, g.oh, g.ow, g.co]);
  const wt = tf.tensor4d(w, c.f as [number, number, number, number]);
  const out = tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt, filter: wt }, {
    strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  dyt.dispose();
  wt.dispose();
  return out;
}

const TOL = 1e-4;

describe('composed convolution gradient kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.setBackend('cpu');
  });
  afterAll(() => {
    uninstallFastKernels('cpu');
    uninstallFastKernels('wasm');
  });

  it(`Conv2DBackpropFilter matches the definition and stock cpu on ${cases.length} cases`, async () => {
    for (const { c, g } of cases) {
      const x = values(g.n * g.h * g.w * g.c, c.seed);
      const dy = values(g.n * g.oh * g.ow * g.co, c.seed + 7);
      const ref = refBackpropFilter(g, x, dy);
      uninstallFastKernels('cpu');
      const stock = await onBackend('cpu', () => filterGrad(c, x, dy, g));
      installFastKernels('cpu');
      installFastKernels('wasm');
      const cpu = await onBackend('cpu', () => filterGrad(c, x, dy, g));
      const wasm = await onBackend('wasm', () => filterGrad(c, x, dy, g));
      const label = JSON.stringify(c);
      expect(maxAbsDiff(stock, ref), label).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(cpu, ref), label).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(wasm, ref), label).toBeLessThanOrEqual(TOL);
    }
  });

  it('splits the patch matrix by taps when it exceeds the budget, with the same result', async () => {
    const { c, g } = cases[cases.length - 1];
    const x = values(g.n * g.h * g.w * g.c, 11);
    const dy = values(g.n * g.oh * g.ow * g.co, 12);
    installFastKernels('wasm');
    const whole = await onBackend('wasm', () => filterGrad(c, x, dy, g));
    const previous = setPatchBudget(g.c * g.n * g.oh * g.ow * 5); // 5 of 49 taps per chunk
    try {
      const split = await onBackend('wasm', () => filterGrad(c, x, dy, g));
      expect(maxAbsDiff(split, whole)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(split, refBackpropFilter(g, x, dy))).toBeLessThanOrEqual(TOL);
    } finally {
      setPatchBudget(previous);
    }
  });

  for (const method of ['conv', 'matmul'] as const) {
    it(`Conv2DBackpropInput (by ${method}) matches the definition and stock wasm on ${cases.length} cases`, async () => {
      const previous = setBackpropInputMethod(method);
      try {
        for (const { c, g } of cases) {
          const dy = values(g.n * g.oh * g.ow * g.co, c.seed + 3);
          const w = values(g.kh * g.kw * g.c * g.co, c.seed + 5);
          const ref = refBackpropInput(g, dy, w);
          uninstallFastKernels('wasm');
          const stock = await onBackend('wasm', () => inputGrad(c, dy, w, g));
          installFastKernels('wasm');
          installFastKernels('cpu');
          const wasm = await onBackend('wasm', () => inputGrad(c, dy, w, g));
          const cpu = await onBackend('cpu', () => inputGrad(c, dy, w, g));
          const label = JSON.stringify(c);
          expect(maxAbsDiff(stock, ref), label).toBeLessThanOrEqual(TOL);
          expect(maxAbsDiff(wasm, ref), label).toBeLessThanOrEqual(TOL);
          expect(maxAbsDiff(cpu, ref), label).toBeLessThanOrEqual(TOL);
        }
      } finally {
        setBackpropInputMethod(previous);
      }
    });
  }

  it(`Conv2D and FusedConv2D on wasm (taps that only meet padding dropped) match stock cpu on ${cases.length} cases`, async () => {
    const trace = new Map<string, { ms: number; calls: number }>();
    let sliced = 0;
    for (const { c, g } of cases) {
      const x = values(g.n * g.h * g.w * g.c, c.seed);
      const w = values(g.kh * g.kw * g.c * g.co, c.seed + 3);
      const bias = values(g.co, c.seed + 5);
      const run = (fused: boolean) => tf.tidy(() => {
        const xt = tf.tensor4d(x, c.x as [number, number, number, number]);
        const wt = tf.tensor4d(w, c.f as [number, number, number, number]);
        return fused
          ? tf.fused.conv2d({ x: xt, filter: wt, strides: c.stride, pad: c.pad, bias: tf.tensor1d(bias), activation: 'relu' })
          : tf.conv2d(xt, wt, c.stride, c.pad);
      });
      for (const fused of [false, true]) {
        const stock = await onBackend('cpu', () => run(fused));
        installFastKernels('wasm');
        setKernelTrace(trace);
        const name = fused ? 'FusedConv2D' : 'Conv2D';
        const before = trace.get(name)?.calls ?? 0;
        const wasm = await onBackend('wasm', () => run(fused));
        setKernelTrace(undefined);
        // The stock kernel runs through the scope (so is traced) only on the smaller filter.
        if ((trace.get(name)?.calls ?? 0) > before) sliced++;
        expect(maxAbsDiff(wasm, stock), `${JSON.stringify(c)} fused ${fused}`).toBeLessThanOrEqual(TOL);
      }
    }
    // The ResNet cases on 1x1 and 2x2 maps, and several random ones, took the smaller filter.
    expect(sliced).toBeGreaterThanOrEqual(4);
  });

  it("wasm's stock Conv2D gets 'same' wrong at stride 3 with an even kernel (why the wrapper passes explicit pads)", async () => {
    const x = values(2 * 3 * 7 * 5, 1);
    const w = values(1 * 4 * 5 * 4, 2);
    const run = () => tf.tidy(() => tf.conv2d(tf.tensor4d(x, [2, 3, 7, 5]), tf.tensor4d(w, [1, 4, 5, 4]), 3, 'same'));
    const cpu = await onBackend('cpu', run);
    uninstallFastKernels('wasm');
    const stock = await onBackend('wasm', run);
    installFastKernels('wasm');
    const ours = await onBackend('wasm', run);
    expect(maxAbsDiff(stock, cpu)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(ours, cpu)).toBeLessThanOrEqual(TOL);
  });

  it('frees every intermediate tensor', async () => {
    installFastKernels('wasm');
    await tf.setBackend('wasm');
    const { c, g } = cases[cases.length - 3];
    const before = tf.memory().numBytes;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const idsBefore = backend.numDataIds();
    const a = filterGrad(c, values(g.n * g.h * g.w * g.c, 1), values(g.n * g.oh * g.ow * g.co, 2), g);
    const b = inputGrad(c, values(g.n * g.oh * g.ow * g.co, 3), values(g.kh * g.kw * g.c * g.co, 4), g);
    expect(backend.numDataIds()).toBe(idsBefore + 2);
    a.dispose();
    b.dispose();
    expect(tf.memory().numBytes).toBe(before);
    expect(backend.numDataIds()).toBe(idsBefore);
  });
});

describe('batch-norm gradient without Tile', () => {
  afterAll(() => uninstallFastGradients());

  it('gives the stock gradient for x, mean, variance, scale and offset', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values(2 * 5 * 4 * 6, 1), [2, 5, 4, 6]);
    const params = [2, 3, 4, 5].map((s) => tf.tensor1d(values(6, s)));
    const variance = tf.add(tf.abs(params[1]), 0.5) as tf.Tensor1D;
    const dy = tf.tensor4d(values(2 * 5 * 4 * 6, 9), [2, 5, 4, 6]);
    const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, sc: tf.Tensor, of: tf.Tensor) =>
      tf.mul(tf.batchNorm(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, of as tf.Tensor1D, sc as tf.Tensor1D, 1e-5), dy);
    const inputs = [x, params[0], variance, params[2], params[3]];
    uninstallFastGradients();
    const stock = tf.grads(f)(inputs).map((g) => g.dataSync());
    installFastGradients();
    const ours = tf.grads(f)(inputs).map((g) => g.dataSync());
    expect(ours.length).toBe(5);
    ours.forEach((g, i) => expect(maxAbsDiff(g, stock[i])).toBeLessThanOrEqual(1e-5));
    expect(ours.every((g) => g.some((v) => v !== 0))).toBe(true);
  });
});

describe('pooling gradients', () => {
  // ('valid' and 'same' only: a numeric pad with a non-integral output size makes TF.js compute a
  // fractional shape, and wasm's MaxPool then writes out of bounds.)
  type PoolCase = { x: [number, number, number, number]; k: [number, number]; s: [number, number]; pad: 'valid' | 'same'; seed: number; zeros: boolean };
  const poolCases: PoolCase[] = fc
    .sample(
      fc.record({
        x: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 1, max: 4 })),
        k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        pad: fc.oneof(fc.constant<'valid'>('valid'), fc.constant<'same'>('same')),
        seed: fc.nat(),
        zeros: fc.boolean(),
      }),
      { seed: 7, numRuns: 30 },
    )
    .map((c) => c as PoolCase);

  const input = (c: PoolCase) => {
    const v = values(c.x.reduce((a, b) => a * b, 1), c.seed);
    // ReLU-like ties at zero in half the cases; all-negative windows in the rest
    return c.zeros ? v.map((x) => Math.max(0, x)) : v;
  };
  const grad = (c: PoolCase, kind: 'max' | 'avg') =>
    tf.tidy(() => {
      const x = tf.tensor4d(input(c), c.x);
      const dyShape = (kind === 'max' ? tf.maxPool(x, c.k, c.s, c.pad) : tf.avgPool(x, c.k, c.s, c.pad)).shape;
      const dy = tf.tensor(values(dyShape.reduce((a, b) => a * b, 1), c.seed + 1), dyShape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(kind === 'max' ? tf.maxPool(a as tf.Tensor4D, c.k, c.s, c.pad) : tf.avgPool(a as tf.Tensor4D, c.k, c.s, c.pad), dy)))(x);
    });

  it(`MaxPoolGrad matches TF.js's cpu kernel on ${poolCases.length} cases, negative windows included`, async () => {
    for (const c of poolCases) {
      uninstallFastKernels('cpu');
      const reference = await onBackend('cpu', () => grad(c, 'max'));
      installFastKernels('cpu');
      installFastKernels('wasm');
      const cpu = await onBackend('cpu', () => grad(c, 'max'));
      const wasm = await onBackend('wasm', () => grad(c, 'max'));
      expect(maxAbsDiff(cpu, reference), JSON.stringify(c)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(wasm, reference), JSON.stringify(c)).toBeLessThanOrEqual(1e-6);
    }
  });

  it("wasm's stock MaxPoolGrad loses all-negative windows (why it is replaced)", async () => {
    const c: PoolCase = { x: [1, 5, 5, 1], k: [3, 3], s: [2, 2], pad: 'valid', seed: 1, zeros: false };
    const allNegative = () => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(tf.sub(a, 2) as tf.Tensor4D, c.k, c.s, c.pad)))(tf.tensor4d(input(c), c.x)));
    uninstallFastKernels('wasm');
    const stock = await onBackend('wasm', allNegative);
    installFastKernels('wasm');
    const ours = await onBackend('wasm', allNegative);
    expect(Array.from(ours).reduce((a, b) => a + b, 0)).toBe(4); // one unit per window
    expect(Array.from(stock).reduce((a, b) => a + b, 0)).toBeLessThan(4);
  });

  it(`AvgPoolGrad (stock) agrees between wasm and cpu on ${poolCases.length} cases`, async () => {
    for (const c of poolCases) {
      const cpu = await onBackend('cpu', () => grad(c, 'avg'));
      const wasm = await onBackend('wasm', () => grad(c, 'avg'));
      expect(maxAbsDiff(wasm, cpu), JSON.stringify(c)).toBeLessThanOrEqual(1e-5);
    }
  });
});
