import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist, subset } from '../../../src/data/index.js';
import { releaseBackend } from '../../../src/targets/tfjs/backend.js';
import { registerWebGpu, shutdownWebGpu, webGpuErrors } from '../../../src/targets/tfjs/backends/webgpu.js';
import { ADDN_CHUNK } from '../../../src/targets/tfjs/backends/webgpu_kernels.js';
import { loadModel } from '../../../src/targets/tfjs/io/model_files.js';
import { evaluate } from '../../../src/targets/tfjs/train/evaluate.js';
import { train } from '../../../src/targets/tfjs/train/train.js';
import { skipWithout } from '../../helpers/require.js';

/**
 * Training on WebGPU through a whole epoch: steps, the held-out evaluation, checkpoint and the
 * saved model, as `skipgraph train --backend webgpu` runs them. On a machine without a GPU this is
 * Dawn on Mesa's llvmpipe (see webgpu.test.ts); without any adapter the suite says why and skips.
 *
 * Until the evaluation read its logits with `await data()`, every such run ended at its first
 * evaluation with `OffscreenCanvas is not defined` (a synchronous read of a GPU tensor in Node),
 * and `--clip-grad` did the same in the optimizer, then hit an AddN of 33 inputs that the
 * compatibility-mode device (8 storage buffers a stage) cannot bind.
 */
const cpuBackend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
if (cpuBackend !== null) cpuBackend.firstUse = false;

async function setUp(): Promise<string | undefined> {
  try {
    await registerWebGpu({ allowSoftware: true });
    return (await tf.setBackend('webgpu')) ? undefined : "tf.setBackend('webgpu') failed";
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0];
  }
}
const skip = await setUp();

describe.skipIf(skipWithout('webgpu training (Mesa llvmpipe)', skip))('webgpu: one short epoch with evaluation and a saved model (software adapter)', () => {
  const out = mkdtempSync(join(tmpdir(), 'sg-webgpu-train-'));
  afterAll(() => {
    releaseBackend();
    shutdownWebGpu();
    rmSync(out, { recursive: true, force: true });
  });

  it(`AddN of more inputs than a shader may bind (${ADDN_CHUNK} at a time) equals the sum`, async () => {
    const xs = Array.from({ length: 33 }, (_, i) => tf.tensor1d([i, -2 * i, 0.5]));
    const sum = tf.addN(xs);
    expect(Array.from(await sum.data())).toEqual([528, -1056, 16.5]);
    expect(webGpuErrors()).toEqual([]);
    tf.dispose([...xs, sum]);
  });

  it('trains mnist_resnet for one epoch (clip-grad, EMA), evaluates, saves; the saved model evaluates the same', async () => {
    const data = loadMnist();
    const lines: string[] = [];
    const r = await train({
      arch: 'architectures/mnist_resnet.yaml',
      dataset: data,
      trainLimit: 64,
      testLimit: 32,
      batch: 32,
      epochs: 1,
      clipGrad: 1,
      ema: 0.9,
      backend: 'webgpu',
      out,
      log: (l) => lines.push(l),
    });
    expect(r.backend.choice).toBe('webgpu');
    expect(r.history).toHaveLength(1);
    expect(Number.isFinite(r.history[0].loss)).toBe(true);
    expect(r.evaluation!.count).toBe(32);
    expect(r.evaluation!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(32);
    expect(lines.some((l) => /^epoch 1\/1: loss .* held-out loss .* EMA acc .* img\/s$/.test(l))).toBe(true);
    expect(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin')) && existsSync(join(out, 'ema', 'model.json'))).toBe(true);
    const loaded = await loadModel(r.modelPath);
    const again = await evaluate(loaded, subset(data.test, Array.from({ length: 32 }, (_, i) => i)));
    expect(again.top1).toBe(r.evaluation!.top1);
    expect(again.loss).toBeCloseTo(r.evaluation!.loss, 4);
    expect(webGpuErrors()).toEqual([]);
    [r.model, r.emaModel, loaded].forEach((m) => m?.dispose());
  }, 600_000);
});
