import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist, type TrainTestSplit } from '../../../src/data/index.js';
import { UserError } from '../../../src/errors/index.js';
import { loadModel } from '../../../src/targets/tfjs/io/model_files.js';
import { train, type TrainOptions } from '../../../src/targets/tfjs/train/train.js';

const ARCH = 'architectures/mnist_resnet.yaml';
const mnist: TrainTestSplit = loadMnist();
const tmp = () => mkdtempSync(join(tmpdir(), 'sg-train-'));
const tiny: Omit<TrainOptions, 'out' | 'epochs'> = { arch: ARCH, dataset: mnist, trainLimit: 192, testLimit: 64, batch: 64, backend: 'wasm', seed: 3 };

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('train on MNIST', () => {
  it('learns: at least 90% of held-out digits after one short epoch', async () => {
    const lines: string[] = [];
    const r = await train({ arch: ARCH, dataset: mnist, trainLimit: 4800, testLimit: 1000, epochs: 1, batch: 32, lr: 0.1, out: tmp(), backend: 'wasm', log: (l) => lines.push(l) });
    expect(r.history).toHaveLength(1);
    expect(r.valAcc).toBeGreaterThanOrEqual(0.9);
    expect(r.history[0].loss).toBeLessThan(Math.log(10)); // better than chance
    expect(lines[0]).toMatch(/^backend: wasm/);
    expect(lines.some((l) => /not node: .*@tensorflow\/tfjs-node/.test(l))).toBe(true);
    expect(lines.some((l) => /^epoch 1\/1: loss .* held-out loss .* img\/s$/.test(l))).toBe(true);
    r.model.dispose();
  });

  it('checkpoints every epoch and resumes exactly where it stopped', async () => {
    const straight = await train({ ...tiny, epochs: 2, out: tmp() });
    const out = tmp();
    // interrupted after epoch 1 of 2 (as by Ctrl-C), so the learning-rate schedule is the same
    const stop = new AbortController();
    const lines: string[] = [];
    const first = await train({ ...tiny, epochs: 2, out, stop: stop.signal, log: (l) => (lines.push(l), l.startsWith('epoch 1/2') && stop.abort()) });
    expect(first.history).toHaveLength(1);
    expect(lines).toContain('stopped after epoch 1; --resume continues from here');
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['epoch-0001']);
    expect(readdirSync(join(out, 'checkpoints', 'epoch-0001')).sort()).toEqual(['model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'weights.bin']);
    first.model.dispose();
    await expect(train({ ...tiny, epochs: 2, out })).rejects.toThrow(/already holds a training run \(epoch 1\).*--resume/);
    const resumed = await train({ ...tiny, epochs: 2, out, resume: true });
    expect(resumed.startEpoch).toBe(1);
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['epoch-0002']);
    // Same shuffles, weights, BN statistics and momentum: the resumed run is the straight run.
    const [a, b] = [weightsOf(straight.model), weightsOf(resumed.model)];
    expect(b.length).toBe(a.length);
    a.forEach((w, i) => w.forEach((v, j) => expect(b[i][j]).toBeCloseTo(v, 5)));
    expect(resumed.history[1].valAcc).toBeCloseTo(straight.history[1].valAcc, 5);
    const again = await train({ ...tiny, epochs: 2, out, resume: true });
    expect(again.startEpoch).toBe(2);
    [straight, resumed, again].forEach((r) => r.model.dispose());
  });

  it('saves a final model that loads and predicts identically', async () => {
    const out = tmp();
    const r = await train({ ...tiny, epochs: 1, out });
    const loaded = await loadModel(r.modelPath);
    const x = tf.randomNormal([5, 28, 28, 1], 0, 1, 'float32', 1);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((r.model.predict(x) as tf.Tensor).dataSync()));
    expect(existsSync(join(out, 'history.json'))).toBe(true);
    [r.model, loaded].forEach((m) => m.dispose());
  });

  it('refuses wrong input with a user error', async () => {
    await expect(train({ ...tiny, epochs: 1, out: tmp(), resume: true })).rejects.toThrow(/--resume: no checkpoint/);
    await expect(train({ ...tiny, arch: 'architectures/resnet18.yaml', epochs: 1, out: tmp() })).rejects.toThrow(/takes 224x224x3 images and 1000 classes, but mnist has 28x28x1 and 10/);
    await expect(train({ ...tiny, arch: 'architectures/nope.yaml', epochs: 1, out: tmp() })).rejects.toThrow(UserError);
    await expect(train({ ...tiny, epochs: 0, out: tmp() })).rejects.toThrow(/--epochs must be a positive whole number/);
    await expect(train({ ...tiny, epochs: 1, out: tmp(), optimizer: 'rmsprop' })).rejects.toThrow(/unknown optimizer/);
    await expect(train({ ...tiny, epochs: 1, out: tmp(), backend: 'tpu' })).rejects.toThrow(/unknown backend 'tpu'/);
  });
});
