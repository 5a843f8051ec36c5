import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { logitsCrossEntropy } from '../../../src/targets/tfjs/train/optimizer.js';
import { compileArchitecture } from './helpers/compile.js';

/** Whether @tensorflow/tfjs-node-gpu can be imported here, and if not, why. */
async function gpuPackage(): Promise<{ ok: boolean; reason: string }> {
  const specifier: string = '@tensorflow/tfjs-node-gpu';
  try {
    await import(specifier);
    return { ok: true, reason: '' };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === 'ERR_MODULE_NOT_FOUND' ? 'is not installed (an optional dependency whose install needs its native library)' : `does not load: ${(err as Error).message.split('\n')[0]}`;
    return { ok: false, reason: `@tensorflow/tfjs-node-gpu ${reason}` };
  }
}

const gpu = await gpuPackage();
if (!gpu.ok) console.info(`[skipgraph] GPU tests skipped: ${gpu.reason}`);

describe('GPU backend (tfjs-node-gpu)', () => {
  it.skipIf(!gpu.ok)(`builds and trains mnist_resnet on node-gpu${gpu.ok ? '' : ` - skipped: ${gpu.reason}`}`, async () => {
    const report = await selectBackend({ force: 'node-gpu' });
    expect(report.tfName).toBe('tensorflow');
    expect(report.fastKernels).toEqual([]);
    const model = buildModel(compileArchitecture('architectures/mnist_resnet.yaml'), { seed: 1 });
    model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: logitsCrossEntropy });
    const x = tf.randomNormal([32, 28, 28, 1], 0, 1, 'float32', 2);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 10), 'int32'), 10);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) losses.push((await model.trainOnBatch(x, y)) as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[4]).toBeLessThan(losses[0]);
    model.dispose();
  });
});
