import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { installFastKernels, uninstallFastGradients, uninstallFastKernels } from '../../../src/targets/tfjs/kernels/install.js';
import { logitsCrossEntropy } from '../../../src/targets/tfjs/train/optimizer.js';
import { compileArchitecture } from './helpers/compile.js';
import { maxRelDiff, values } from './helpers/model_io.js';

/**
 * One SGD step of a whole (narrow) ResNet-18 (7x7 stride-2 stem, max-pool, projections) from the same
 * weights and batch on: cpu with TF.js's stock kernels (the reference), cpu with the composed
 * ones, and wasm (which cannot train without them). The updated weights must agree.
 */
const graph = () =>
  compileArchitecture('architectures/resnet18.yaml', [
    'input.height=64',
    'input.width=64',
    'classes=10',
    'stem.0.filters=8',
    ...[8, 16, 32, 64].map((c, i) => `stages.${i}.channels=${c}`),
  ]);

async function step(backend: string, composed: boolean): Promise<{ loss: number; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  if (composed) installFastKernels(backend);
  else {
    uninstallFastKernels(backend);
    uninstallFastGradients();
  }
  const model = buildModel(graph(), { seed: 4, probe: false });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: logitsCrossEntropy });
  const x = tf.tensor4d(values(4 * 64 * 64 * 3, 8), [4, 64, 64, 3]);
  const y = tf.oneHot(tf.tensor1d([3, 7, 0, 9], 'int32'), 10);
  const loss = (await model.trainOnBatch(x, y)) as number;
  const ids = ['conv1', 'layer1.0.conv1', 'layer2.0.conv1', 'layer2.0.downsample.0', 'layer4.1.conv2', 'layer3.0.bn1', 'fc'];
  const weights = ids.map((id) => model.getLayer(id).getWeights()[0].dataSync() as Float32Array);
  model.dispose();
  tf.dispose([x, y]);
  return { loss, weights };
}

describe('a ResNet-18 training step', () => {
  afterAll(() => installFastKernels('cpu'));

  it('gives the same update on cpu (stock), cpu (composed) and wasm', async () => {
    const reference = await step('cpu', false);
    const results = { cpu: await step('cpu', true), wasm: await step('wasm', true) };
    const before = buildModel(graph(), { seed: 4, probe: false });
    const moved = maxRelDiff(before.getLayer('layer1.0.conv1').getWeights()[0].dataSync() as Float32Array, reference.weights[1]);
    before.dispose();
    expect(moved).toBeGreaterThan(1e-4); // the step changed the weights, so agreement means something
    for (const [name, r] of Object.entries(results)) {
      expect(Number.isFinite(r.loss), name).toBe(true);
      expect(r.loss, name).toBeCloseTo(reference.loss, 4);
      r.weights.forEach((w, i) => expect(maxRelDiff(w, reference.weights[i]), `${name} weight ${i}`).toBeLessThan(1e-4));
    }
  });
});
