import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/files.js';
import type { CompiledGraph } from '../../../src/compiler/types.js';
import {
  describeAdapter,
  isSoftwareAdapter,
  probeWebGpu,
  registerWebGpu,
  shutdownWebGpu,
  webGpuErrors,
  webGpuKernelFixes,
  type WebGpuAdapter,
} from '../../../src/targets/tfjs/backends/webgpu.js';
import { describeBackend, selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { installFastKernels } from '../../../src/targets/tfjs/kernels/install.js';
import { skipWithout } from '../../helpers/require.js';
import { requireClassifier } from '../../../src/compiler/index.js';

/**
 * The emitted model on TF.js's WebGPU backend (Dawn, `webgpu` npm package) against `cpu`.
 * On machines without a GPU, Dawn's adapter is software: Mesa's llvmpipe through OpenGL ES
 * (stock Debian 12 Mesa), or lavapipe through Vulkan (newer Mesa, 25.x). Where no adapter can be had the
 * suite prints one line saying why and skips.
 *
 * Tolerances (measured on llvmpipe, Mesa 22.3.6, then given ~100x room):
 * - eval logits: max |webgpu - cpu| <= 1e-4 (measured <= 1e-6; ResNet-18 at 32x32: 6e-7);
 * - one SGD step: loss within 1e-5 relative; each variable's update (w_after - w_before)
 *   within 1e-3 in relative L2 norm of cpu's update (measured <= 5e-5); batch-norm moving
 *   statistics within 1e-4 absolute.
 * The models are small and their inputs fixed so that no ReLU input sits within rounding of
 * zero: where one does (e.g. ResNet-18 at 32x32, batch 8, layer4 at 1x1), one sign flip
 * changes a whole channel's batch-norm gradient by ~20% on any two backends (wasm vs cpu
 * included), which is float rounding, not a kernel fault.
 */

const OPTION_A = `
name: tiny_option_a
input: { height: 16, width: 16, channels: 3 }
classes: 5
shortcut: zeropad
stem:
  - { op: conv, filters: 8, kernel: 3 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: basic, channels: 8, blocks: 1, stride: 1 }
  - { block: basic, channels: 16, blocks: 1, stride: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;

/** Projection shortcuts, maxpool stem, explicit padding, grouped 3x3 convs, squeeze-excitation. */
const BOTTLENECK = `
name: tiny_bottleneck
input: { height: 16, width: 16, channels: 3 }
classes: 5
shortcut: projection
stem:
  - { op: conv, filters: 16, kernel: 3, stride: 1, padding: 1 }
  - { op: bn }
  - { op: relu }
  - { op: maxpool, kernel: 3, stride: 2, padding: 1 }
stage_defaults: { groups: 2, width_per_group: 8, se: { reduction: 16 } }
stages:
  - { block: bottleneck, channels: 16, blocks: 1, stride: 1 }
  - { block: bottleneck, channels: 32, blocks: 1, stride: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;

const cpuBackend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
if (cpuBackend !== null) cpuBackend.firstUse = false; // its advert for tfjs-node

const BATCH = 4;
const LR = 0.1;

function compiled(yaml: string): CompiledGraph {
  const r = compileSource(yaml);
  if (r.graph === undefined) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.graph;
}

function inputs(g: CompiledGraph): { x: Float32Array; labels: number[] } {
  const { height, width, channels } = g.input;
  const x = Float32Array.from({ length: BATCH * height * width * channels }, (_, i) => Math.sin(i * 0.37) + 0.25 * Math.cos(i * 0.011));
  const labels = Array.from({ length: BATCH }, (_, i) => i % requireClassifier(g, 'this test').classes);
  return { x, labels };
}

interface Run {
  logits: Float32Array;
  loss: number;
  before: Float32Array[];
  after: Float32Array[];
  trainable: boolean[];
  /** Losses of further steps (webgpu only). */
  more: number[];
}

/** Eval logits, then SGD steps on one batch; every read is `await data()` (no sync reads on GPU). */
async function runOn(backend: string, g: CompiledGraph, weights: tf.Tensor[] | undefined, extraSteps = 0): Promise<{ run: Run; weights: tf.Tensor[] }> {
  expect(await tf.setBackend(backend)).toBe(true);
  installFastKernels(backend);
  const model = buildModel(g, { seed: 11, probe: false });
  if (weights !== undefined) model.setWeights(weights);
  const before = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  const { x: xv, labels } = inputs(g);
  const { height, width, channels } = g.input;
  const x = tf.tensor4d(xv, [BATCH, height, width, channels]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), requireClassifier(g, 'this test').classes).toFloat();
  const logits = (await (model.predict(x) as tf.Tensor).data()) as Float32Array;
  const optimizer = tf.train.sgd(LR);
  const step = async () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
  const loss = await step();
  const after = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  const more: number[] = [];
  for (let i = 0; i < extraSteps; i++) more.push(await step());
  const trainable = model.weights.map((w) => w.trainable);
  const kept = weights ?? before.map((v, i) => tf.tensor(v, model.getWeights()[i].shape));
  return { run: { logits, loss, before, after, trainable, more }, weights: kept };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** ||(a1 - a0) - (b1 - b0)|| / ||a1 - a0||: how far one update is from the other. */
function updateError(a0: Float32Array, a1: Float32Array, b0: Float32Array, b1: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a0.length; i++) {
    const da = a1[i] - a0[i];
    const db = b1[i] - b0[i];
    num += (da - db) ** 2;
    den += da ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

type Setup = { adapter: WebGpuAdapter } | { reason: string };

async function setUp(): Promise<Setup> {
  try {
    const adapter = await registerWebGpu({ allowSoftware: true });
    if (!(await tf.setBackend('webgpu'))) return { reason: "tf.setBackend('webgpu') failed" };
    return { adapter };
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    return { reason: text.split('\n')[0] };
  }
}

describe('webgpu: adapter classification (no GPU needed)', () => {
  it('tells software rasterizers from hardware adapters', () => {
    expect(isSoftwareAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 19.1.7, 256 bits)', architecture: '' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'lavapipe' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia', description: 'NVIDIA H100', isFallbackAdapter: true })).toBe(true);
  });

  it('prints vendor, architecture and description', () => {
    const line = describeAdapter({
      route: 'native', featureLevel: 'core', vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', software: false,
    });
    expect(line).toBe('vendor nvidia, architecture hopper, device -, description NVIDIA H100 80GB HBM3 (hardware, Dawn native API, core)');
  });
});

const setup = await setUp();
const skip = 'reason' in setup ? setup.reason : undefined;

describe.skipIf(skipWithout('webgpu parity (Mesa llvmpipe)', skip))('webgpu: emitted models against cpu (software adapter)', () => {
  afterAll(() => {
    shutdownWebGpu();
    expect(tf.findBackendFactory('webgpu')).toBeNull();
  });

  it('never picks a software adapter on its own', async () => {
    const probe = await probeWebGpu({ allowSoftware: false });
    if (probe.found.every((a) => a.software)) expect(probe.adapter).toBeUndefined();
    else expect(probe.adapter?.software).toBe(false);
  });

  it('pads rank-6 tensors correctly (the stock WebGPU PadV2 shader fails to compile at rank 5 and 6)', async () => {
    expect(webGpuKernelFixes()).toContain('PadV2');
    const shape = [2, 2, 2, 2, 2, 3];
    const values = Float32Array.from({ length: 96 }, (_, i) => i - 40);
    const paddings: [number, number][] = [[0, 0], [1, 0], [0, 2], [0, 0], [1, 1], [0, 1]];
    const pad = async (backend: string) => {
      await tf.setBackend(backend);
      return { data: await tf.pad(tf.tensor(values, shape), paddings, 0.5).data(), grad: await tf.grad((x: tf.Tensor) => tf.slice(x, [0, 0, 0, 0, 0, 0], [2, 1, 2, 1, 2, 3]).sum())(tf.tensor(values, shape)).data() };
    };
    const cpu = await pad('cpu');
    const gpu = await pad('webgpu');
    expect(Array.from(gpu.data)).toEqual(Array.from(cpu.data));
    expect(Array.from(gpu.grad)).toEqual(Array.from(cpu.grad));
  });

  for (const [name, yaml] of [['option-A shortcuts (subsample, channel pad)', OPTION_A], ['bottleneck, grouped conv, SE, projection', BOTTLENECK]] as const) {
    it(`${name}: eval logits and one SGD step match cpu; the loss falls`, async () => {
      const g = compiled(yaml);
      const cpu = await runOn('cpu', g, undefined);
      const gpu = await runOn('webgpu', g, cpu.weights, 3);
      expect(maxAbsDiff(gpu.run.logits, cpu.run.logits)).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(gpu.run.loss - cpu.run.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(cpu.run.loss));
      const worst = { trainable: 0, stats: 0 };
      cpu.run.before.forEach((b0, i) => {
        if (cpu.run.trainable[i]) {
          worst.trainable = Math.max(worst.trainable, updateError(b0, cpu.run.after[i], gpu.run.before[i], gpu.run.after[i]));
        } else {
          worst.stats = Math.max(worst.stats, maxAbsDiff(cpu.run.after[i], gpu.run.after[i]));
        }
      });
      expect(worst.trainable).toBeLessThanOrEqual(1e-3);
      expect(worst.stats).toBeLessThanOrEqual(1e-4);
      expect(gpu.run.more[gpu.run.more.length - 1]).toBeLessThan(gpu.run.loss);
      expect(webGpuErrors()).toEqual([]);
    });
  }

  // Last: automatic selection may drop the software adapter's backend.
  it('the backend report names the adapter when forced; a software adapter is passed over otherwise', async () => {
    const forced = await selectBackend({ force: 'webgpu', env: {} });
    expect(forced.choice).toBe('webgpu');
    expect(describeBackend(forced).join('\n')).toMatch(/^ {2}adapter: vendor .*, architecture .*, device .*, description .* \((hardware|software), Dawn /m);
    const auto = await selectBackend({ env: {} });
    if ('adapter' in setup && setup.adapter.software) {
      expect(auto.choice).not.toBe('webgpu');
      expect(auto.passedOver.find((p) => p.choice === 'webgpu')?.reason).toMatch(/no GPU device|no hardware WebGPU adapter/);
    }
  });
});
