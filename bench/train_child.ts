/**
 * One ResNet-18 training-step measurement in its own process (so VmHWM is this job's alone):
 * batch 32, 32x32x3, 10 classes, SGD. 1 warm-up step, then --steps timed steps; with --profile,
 * one more step under tf.profile (top kernels by time).
 *
 *   node --import tsx bench/train_child.ts --backend wasm --steps 3 [--profile]
 */
import * as tf from '@tensorflow/tfjs';
import { compileFile } from '../src/compiler/files.js';
import { selectBackend } from '../src/targets/tfjs/backend.js';
import { describeAdapter, webGpuAdapter } from '../src/targets/tfjs/backends/webgpu.js';
import { buildModel } from '../src/targets/tfjs/build.js';
import { arch, argValue, emit, peakRssKiB } from './common.js';

const argv = process.argv.slice(2);
const backend = argValue(argv, '--backend', 'wasm')!;
const steps = Number(argValue(argv, '--steps', '3'));
const profile = argv.includes('--profile');

await selectBackend({ force: backend, forceSource: '--backend' } as never);
const r = compileFile(arch('resnet18'), { sets: ['input.height=32', 'input.width=32', 'classes=10'] });
if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
const model = buildModel(r.graph, { seed: 1, probe: false });
const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 3);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 10), 'int32'), 10).toFloat();
const opt = tf.train.sgd(0.01);
const step = async (): Promise<void> => {
  const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
  await loss.data();
  loss.dispose();
};
await step();
const stepSeconds: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await step();
  stepSeconds.push((performance.now() - t0) / 1000);
}
let kernels: { name: string; ms: number; count: number }[] | undefined;
if (profile) {
  const info = await tf.profile(async () => { await step(); });
  const by = new Map<string, { ms: number; count: number }>();
  for (const k of info.kernels) {
    const e = by.get(k.name) ?? { ms: 0, count: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.count += 1;
    by.set(k.name, e);
  }
  kernels = [...by].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ms - a.ms);
}
const gpu = tf.getBackend() === 'webgpu' ? webGpuAdapter() : undefined;
emit({ backend: tf.getBackend(), adapter: gpu === undefined ? undefined : describeAdapter(gpu), stepSeconds, peakRssKiB: peakRssKiB(), kernels });
