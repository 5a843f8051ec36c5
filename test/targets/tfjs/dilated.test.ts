import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { compileSource } from '../../../src/compiler/files.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { installFastKernels } from '../../../src/targets/tfjs/kernels/install.js';
import { GroupedConv2D } from '../../../src/targets/tfjs/layers/index.js';
import { logitsCrossEntropy } from '../../../src/targets/tfjs/train/optimizer.js';
import { maxAbsDiff, refBackpropFilter, refBackpropInput, type RefConv } from './helpers/reference_conv.js';
import { values } from './helpers/model_io.js';
import { refConv } from './helpers/reference_ops.js';

/**
 * Dilated convolutions train: TF.js's conv gradients (the fused op's and Conv2D's) assert
 * dilation 1, so the runtime computes a dilated conv as TensorFlow's atrous_conv2d does
 * (SpaceToBatchND, a plain conv, BatchToSpaceND). Its forward and both gradients are checked
 * here against the definition (plain loops), on wasm and cpu.
 */
interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  filters: number;
  k: [number, number];
  d: [number, number];
  groups: number;
  padding: 'same' | 'valid';
}

const CASES: Case[] = [
  { n: 2, h: 7, w: 6, c: 3, filters: 4, k: [3, 3], d: [2, 2], groups: 1, padding: 'same' },
  { n: 1, h: 9, w: 9, c: 4, filters: 6, k: [3, 3], d: [4, 4], groups: 2, padding: 'same' },
  { n: 1, h: 10, w: 8, c: 2, filters: 3, k: [3, 2], d: [2, 3], groups: 1, padding: 'valid' },
  { n: 2, h: 5, w: 5, c: 2, filters: 2, k: [3, 3], d: [3, 1], groups: 1, padding: 'same' },
];

/** TF 'same' before-padding for stride 1 (as the layer computes it). */
const sameBefore = (size: number, k: number, d: number) => Math.floor(Math.max((k - 1) * d, 0) / 2);

function geometry(c: Case): RefConv {
  const span = (k: number, d: number) => (k - 1) * d;
  const same = c.padding === 'same';
  return {
    n: c.n,
    h: c.h,
    w: c.w,
    c: c.c / c.groups,
    oh: same ? c.h : c.h - span(c.k[0], c.d[0]),
    ow: same ? c.w : c.w - span(c.k[1], c.d[1]),
    co: c.filters / c.groups,
    kh: c.k[0],
    kw: c.k[1],
    sh: 1,
    sw: 1,
    top: same ? sameBefore(c.h, c.k[0], c.d[0]) : 0,
    left: same ? sameBefore(c.w, c.k[1], c.d[1]) : 0,
    dh: c.d[0],
    dw: c.d[1],
  };
}

/** Splits NHWC data into the channel slice of one group (the reference works per group). */
function slice(data: Float32Array, outer: number, channels: number, from: number, count: number): Float32Array {
  const out = new Float32Array(outer * count);
  for (let i = 0; i < outer; i++) for (let k = 0; k < count; k++) out[i * count + k] = data[i * channels + from + k];
  return out;
}

/** The layer's forward y, dx and dkernel for dy, on the current backend. */
function layerGrads(c: Case, x: Float32Array, kernel: Float32Array, dy: Float32Array, oh: number, ow: number) {
  const layer = new GroupedConv2D({
    name: 'c',
    filters: c.filters,
    kernelSize: c.k,
    strides: [1, 1],
    dilationRate: c.d,
    groups: c.groups,
    padding: c.padding,
    useBias: false,
    kernelInitializer: tf.initializers.zeros(),
  });
  const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.c]);
  layer.build(xt.shape);
  layer.setWeights([tf.tensor4d(kernel, [c.k[0], c.k[1], c.c / c.groups, c.filters])]);
  const dyt = tf.tensor4d(dy, [c.n, oh, ow, c.filters]);
  const k = layer.trainableWeights[0].read() as tf.Tensor4D;
  const f = (xi: tf.Tensor, ki: tf.Tensor) => {
    const saved = layer.trainableWeights[0].read();
    layer.trainableWeights[0].write(ki);
    const y = layer.apply(xi) as tf.Tensor;
    layer.trainableWeights[0].write(saved);
    return tf.sum(tf.mul(y, dyt));
  };
  const y = (layer.apply(xt) as tf.Tensor).dataSync() as Float32Array;
  const [dx, dk] = tf.grads(f)([xt, k]).map((t) => t.dataSync() as Float32Array);
  tf.dispose([xt, dyt]);
  return { y, dx, dk, shape: [oh, ow] };
}

describe('dilated convolutions (atrous path)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    installFastKernels('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const backend of ['wasm', 'cpu']) {
    it(`forward, input gradient and filter gradient match the definition on ${backend} (${CASES.length} cases)`, async () => {
      await tf.setBackend(backend);
      for (const [i, c] of CASES.entries()) {
        const g = geometry(c);
        const x = values(c.n * c.h * c.w * c.c, 3 + i);
        const kernel = values(c.k[0] * c.k[1] * (c.c / c.groups) * c.filters, 5 + i);
        const dy = values(c.n * g.oh * g.ow * c.filters, 7 + i);
        const got = layerGrads(c, x, kernel, dy, g.oh, g.ow);
        // The reference, one channel group at a time.
        const refDx = new Float64Array(x.length);
        const refDk = new Float64Array(kernel.length);
        const refY = new Float64Array(dy.length);
        for (let grp = 0; grp < c.groups; grp++) {
          const xs = slice(x, c.n * c.h * c.w, c.c, grp * g.c, g.c);
          const dys = slice(dy, c.n * g.oh * g.ow, c.filters, grp * g.co, g.co);
          const ks = slice(kernel, c.k[0] * c.k[1] * g.c, c.filters, grp * g.co, g.co);
          const dk = refBackpropFilter(g, xs, dys);
          const dx = refBackpropInput(g, dys, ks);
          for (let q = 0; q < c.k[0] * c.k[1] * g.c; q++) for (let o = 0; o < g.co; o++) refDk[q * c.filters + grp * g.co + o] = dk[q * g.co + o];
          for (let q = 0; q < c.n * c.h * c.w; q++) for (let ch = 0; ch < g.c; ch++) refDx[q * c.c + grp * g.c + ch] = dx[q * g.c + ch];
        }
        // The forward, per image, from reference_ops (groups and dilation included).
        const pads = (size: number, k: number, d: number): [number, number] => {
          if (c.padding === 'valid') return [0, 0];
          const before = sameBefore(size, k, d);
          return [before, (k - 1) * d - before];
        };
        const [t, b] = pads(c.h, c.k[0], c.d[0]);
        const [l, r] = pads(c.w, c.k[1], c.d[1]);
        const per = c.h * c.w * c.c;
        for (let img = 0; img < c.n; img++) {
          const out = refConv({ h: c.h, w: c.w, c: c.c, data: x.subarray(img * per, (img + 1) * per) }, kernel, {
            kernel: c.k,
            stride: [1, 1],
            padding: [t, b, l, r],
            dilation: c.d,
            groups: c.groups,
            filters: c.filters,
          });
          refY.set(out.data, img * out.data.length);
        }
        const label = `${backend} ${JSON.stringify(c)}`;
        expect(maxAbsDiff(got.y, refY), label).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(got.dx, refDx), label).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(got.dk, refDk), label).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('a dilated ResNet trains on wasm: finite losses that fall, every weight moves', async () => {
    await tf.setBackend('wasm');
    const yaml = `
name: dilated
input: { height: 16, width: 16, channels: 1 }
classes: 4
stem:
  - { op: conv, filters: 8, kernel: 3, padding: 1 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: basic, channels: 8, blocks: 1, stride: 2 }
  - { block: basic, channels: 16, blocks: 2, stride: 1, dilation: 2 }
  - { block: bottleneck, channels: 8, blocks: 2, stride: 1, dilation: 4, groups: 2, width_per_group: 32 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;
    const r = compileSource(yaml);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const graph = r.graph!;
    const dilated = graph.nodes.filter((n) => n.op === 'conv' && (n.attrs as { dilation: number[] }).dilation[0] > 1).map((n) => n.id);
    expect(dilated).toEqual(['layer2.0.conv2', 'layer2.1.conv1', 'layer2.1.conv2', 'layer3.0.conv2', 'layer3.1.conv2']);
    const model = buildModel(graph, { seed: 1 });
    model.compile({ optimizer: tf.train.sgd(0.05), loss: logitsCrossEntropy });
    const before = model.getLayer('layer3.1.conv2').getWeights()[0].dataSync().slice();
    const x = tf.tensor4d(values(8 * 16 * 16, 2), [8, 16, 16, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) losses.push((await model.trainOnBatch(x, y)) as number);
    const after = model.getLayer('layer3.1.conv2').getWeights()[0].dataSync();
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(maxAbsDiff(before, after)).toBeGreaterThan(1e-5);
    model.dispose();
    tf.dispose([x, y]);
  });

  it("the issue's command line trains a dilated mnist_resnet (it used to die in the fused conv gradient, exit 7)", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgraph-dilated-')), 'run');
    const r = await runCli('train', 'architectures/mnist_resnet.yaml', '--set', 'stages.2.stride=1', '--set', 'stages.2.dilation=2', '--epochs', '1', '--train-limit', '128', '--test-limit', '64', '--out', out, '--backend', 'wasm', '--no-progress');
    expect(r.err).not.toMatch(/dilation rates|\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/held-out|accuracy/i);
  });
});
