import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_MEAN, CIFAR10_STD, random, type ImageSet, type TrainTestSplit } from '../../../src/data/index.js';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { UserError } from '../../../src/errors/index.js';
import { loadModel } from '../../../src/targets/tfjs/io/model_files.js';
import { WeightEma } from '../../../src/targets/tfjs/train/ema.js';
import { evaluate, formatConfusion } from '../../../src/targets/tfjs/train/evaluate.js';
import { RecipeOptimizer } from '../../../src/targets/tfjs/train/optimizer.js';
import { lrAt, type ScheduleOptions } from '../../../src/targets/tfjs/train/schedule.js';
import { resolveSettings, train, type TrainOptions } from '../../../src/targets/tfjs/train/train.js';
import { runCli } from '../../helpers/cli.js';

/** CIFAR-shaped images whose class sets the colour of a square, on noise: learnable in a few steps. */
function cifarLike(count: number, seed: number, side = 32): ImageSet {
  const rng = random(seed);
  const pixels = new Uint8Array(count * side * side * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    const colour = [(label * 83) % 256, (label * 157) % 256, (label * 41 + 100) % 256];
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        for (let k = 0; k < 3; k++) {
          const inside = y >= side / 4 && y < (3 * side) / 4 && x >= side / 4 && x < (3 * side) / 4;
          pixels[((i * side + y) * side + x) * 3 + k] = inside ? colour[k] : rng.int(0, 256);
        }
  }
  return { name: 'cifar-like', height: side, width: side, channels: 3, classes: 10, count, pixels, scale: 1 / 255, labels, mean: CIFAR10_MEAN, std: CIFAR10_STD };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sg-recipe-'));

describe('schedules against their definitions', () => {
  const base: ScheduleOptions = { schedule: 'cosine', lr: 0.1, epochs: 10, stepsPerEpoch: 4 };
  it('linear warm-up from 0.01 of the rate, then cosine over the rest (torchvision LinearLR + CosineAnnealingLR)', () => {
    const o = { ...base, warmup: 2 };
    expect(lrAt(o, 0)).toBeCloseTo(0.001, 12);
    expect(lrAt(o, 4)).toBeCloseTo(0.1 * (0.01 + 0.99 * 0.5), 12); // t = 1 epoch of 2
    expect(lrAt(o, 8)).toBeCloseTo(0.1, 12); // t = W: the cosine's start
    expect(lrAt(o, 8 + 16)).toBeCloseTo(0.05, 12); // half of the 8 cosine epochs
    expect(lrAt(o, 40)).toBeCloseTo(0, 12);
  });
  it('per epoch: one rate for each epoch; per step: fractional epochs', () => {
    const o: ScheduleOptions = { ...base, per: 'epoch' };
    expect(new Set([0, 1, 2, 3].map((s) => lrAt(o, s))).size).toBe(1);
    expect(lrAt(o, 4)).toBeCloseTo(0.05 * (1 + Math.cos(Math.PI / 10)), 12);
    expect(lrAt(base, 1)).toBeCloseTo(0.05 * (1 + Math.cos(Math.PI / 40)), 12);
  });
  it('step and multistep (by epoch, as timm), onecycle (PyTorch OneCycleLR)', () => {
    const step: ScheduleOptions = { ...base, schedule: 'step', stepSize: 3, gamma: 0.5, per: 'epoch' };
    expect([0, 11, 12, 24, 39].map((s) => lrAt(step, s))).toEqual([0.1, 0.1, 0.05, 0.025, 0.1 * 0.5 ** 3]);
    const multi: ScheduleOptions = { ...base, schedule: 'multistep', milestones: [2, 5], gamma: 0.1 };
    expect(lrAt(multi, 7)).toBeCloseTo(0.1, 12);
    expect(lrAt(multi, 8)).toBeCloseTo(0.01, 12);
    expect(lrAt(multi, 20)).toBeCloseTo(0.001, 12);
    const one: ScheduleOptions = { ...base, schedule: 'onecycle' };
    const total = 40;
    expect(lrAt(one, 0)).toBeCloseTo(0.1 / 25, 12);
    expect(lrAt(one, 0.3 * total - 1)).toBeCloseTo(0.1, 12);
    expect(lrAt(one, total - 1)).toBeCloseTo(0.1 / 25 / 1e4, 12);
  });
});

describe('optimizer, EMA and evaluation', () => {
  beforeAll(async () => {
    await selectBackend({ force: 'wasm' });
  });

  it('decays kernels only by default (timm), everything with decayAll, nothing listed in noWeightDecay', () => {
    const o = new RecipeOptimizer('sgd', 0.1, { weightDecay: 1e-4, noWeightDecay: ['stem'] });
    expect([o.decays('conv1/kernel', 4), o.decays('bn1/gamma', 1), o.decays('fc/bias', 1), o.decays('stem_conv/kernel', 4)]).toEqual([true, false, false, false]);
    expect(new RecipeOptimizer('sgd', 0.1, { weightDecay: 1e-4, decayAll: true }).decays('bn1/gamma', 1)).toBe(true);
    expect(new RecipeOptimizer('sgd', 0.1).decays('conv1/kernel', 4)).toBe(false);
    expect(() => new RecipeOptimizer('adamw', 0.1, { nesterov: true })).toThrow(/--nesterov needs sgd/);
    expect(() => new RecipeOptimizer('sgd', 0.1, { weightDecay: -1 })).toThrow(/--weight-decay must be 0 or a positive/);
    expect(() => new RecipeOptimizer('rmsprop', 0.1)).toThrow(/unknown optimizer 'rmsprop'; use sgd, adam, adamw/);
  });

  it('EMA: ema = d * ema + (1 - d) * w for every weight, batch-norm statistics included', () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 }), tf.layers.batchNormalization()] });
    const w0 = m.weights.map((w) => Array.from(w.read().dataSync()));
    const ema = new WeightEma(m, 0.9);
    m.weights.forEach((w) => w.write(tf.add(w.read(), 1)));
    ema.update();
    ema.weights.forEach((t, i) => Array.from(t.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(w0[i][j] + 0.1, 5)));
    expect(ema.weights).toHaveLength(2 + 4);
    const warm = new WeightEma(m, 0.999, { warmup: true });
    expect(warm.currentDecay).toBeCloseTo(2 / 11, 12);
    expect(() => new WeightEma(m, 1)).toThrow(/--ema must be a decay in \(0, 1\)/);
    [ema, warm].forEach((e) => e.dispose());
  });

  it('top-1, top-5, per-class accuracy and the confusion matrix, on wasm (no tf.math.confusionMatrix)', async () => {
    // logits = one-hot(pixel value) from a fixed dense layer: the prediction is the image's single value
    const K = 6;
    const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [1, 1, 1] }), tf.layers.dense({ units: K, useBias: true })] });
    m.setWeights([tf.tensor2d([[0, 1, 2, 3, 4, 5]], [1, K]), tf.tensor1d([0, 0, 0, 0, 0, 0])]); // logit j = j * value: argmax is 5 for value > 0, 0 for value < 0
    const values = [1, 1, -1, -1, 1];
    const labels = [5, 0, 0, 1, 2];
    const set: ImageSet = { name: 't', height: 1, width: 1, channels: 1, classes: K, count: 5, pixels: Float32Array.from(values), scale: 1, labels: Uint8Array.from(labels), mean: [0], std: [1] };
    const e = await evaluate(m, set);
    expect(e.top1).toBeCloseTo(2 / 5, 12); // sample 0 (5) and sample 2 (0)
    // value 1: ranks 5,4,3,2,1,0, so label 2 is 4th (top-5), label 0 6th; value -1: ranks 0,1,...: label 1 2nd
    expect(e.top5).toBeCloseTo(4 / 5, 12);
    expect(e.confusion[5][5]).toBe(1);
    expect(e.confusion[0]).toEqual([1, 0, 0, 0, 0, 1]);
    expect(e.confusion[1][0]).toBe(1);
    expect(e.confusion[2][5]).toBe(1);
    expect(e.perClass.slice(0, 3)).toEqual([0.5, 0, 0]);
    expect(e.perClass[3]).toBeNaN();
    const lines = formatConfusion(e);
    expect(lines[0]).toMatch(/^true\\pred +0 +1 +2 +3 +4 +5 +acc$/);
    expect(lines[1]).toMatch(/^0 +1 +0 +0 +0 +0 +1 +50\.0%$/);
  });

  it('resolves a recipe under the flags given: flags win', () => {
    const s = resolveSettings({ recipe: 'cifar-resnet', epochs: 20, lr: 0.05 });
    expect(s).toMatchObject({ batch: 128, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 5e-4, schedule: 'cosine', warmup: 5, labelSmoothing: 0.1, augment: { crop: { padding: 4 }, flip: 0.5 } });
    expect(resolveSettings({ recipe: 'cifar-resnet', epochs: 2 }).warmup).toBe(0);
    expect(resolveSettings({ recipe: 'imagenet-resnet', epochs: 90 })).toMatchObject({ schedule: 'step', stepSize: 30, schedulePer: 'epoch', weightDecay: 1e-4, augment: { resizedCrop: { scale: [0.08, 1] }, flip: 0.5 } });
    expect(() => resolveSettings({ recipe: 'cifar', epochs: 1 })).toThrow(/unknown recipe 'cifar'; use cifar-resnet or imagenet-resnet/);
    expect(() => resolveSettings({ epochs: 3, warmup: 3 })).toThrow(/--warmup 3 must be shorter than the run/);
    expect(() => resolveSettings({ epochs: 3, schedule: 'multistep' })).toThrow(/needs --milestones/);
    expect(() => resolveSettings({ epochs: 3, labelSmoothing: 1 })).toThrow(UserError);
  });
});

/** cifar_resnet20 cut to one block a stage (ResNet-8) so that the suite stays cheap; the CLI test keeps 32x32, the API test 16x16. */
const ONE_BLOCK = ['stages.0.blocks=1', 'stages.1.blocks=1', 'stages.2.blocks=1'];

describe('train with the cifar-resnet recipe on cifar_resnet20 (one block a stage; CIFAR-shaped data written by the test)', () => {
  const data: TrainTestSplit = { train: cifarLike(256, 1, 16), test: cifarLike(100, 2, 16) };
  const opts: Omit<TrainOptions, 'out'> = { arch: 'architectures/cifar_resnet20.yaml', sets: [...ONE_BLOCK, 'input.height=16', 'input.width=16'], dataset: data, recipe: 'cifar-resnet', epochs: 2, batch: 32, warmup: 1, ema: 0.9, backend: 'wasm', seed: 1 };

  it('trains with crop + flip, SGD momentum, weight decay, warm-up + cosine, label smoothing and EMA; writes the reports', async () => {
    const out = tmp();
    const lines: string[] = [];
    const r = await train({ ...opts, out, log: (l) => lines.push(l) });
    expect(lines).toContain('recipe cifar-resnet: sgd momentum 0.9, lr 0.1 cosine per step, warm-up 1 epoch, batch 32, weight decay 0.0005 (not on biases and batch-norm), label smoothing 0.1, augment crop:4+flip:0.5, EMA 0.9');
    expect(r.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(r.history[0].lr).toBeCloseTo(0.001, 9); // the warm-up's first step
    expect(r.history[1].loss).toBeLessThan(r.history[0].loss);
    expect(r.history[1].valAcc).toBeGreaterThan(0.2); // chance is 0.1
    expect(r.history[1].valTop5).toBeGreaterThanOrEqual(r.history[1].valAcc);
    expect(r.history[1].emaValAcc).toBeDefined();
    expect(lines.some((l) => /^epoch 2\/2: loss .* held-out loss .* top-5 .*% \| EMA acc .*% \| .* img\/s$/.test(l))).toBe(true);
    expect(lines.some((l) => /^true\\pred +0 +1 +2 .* acc$/.test(l))).toBe(true);
    const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,loss,acc,valLoss,valAcc,valTop5,emaValAcc,lr,imagesPerSecond,seconds');
    expect(csv).toHaveLength(3);
    expect(Number(csv[2].split(',')[4])).toBeCloseTo(r.history[1].valAcc, 5);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg [\s\S]*held-out \(EMA\)[\s\S]*<\/svg>\n$/);
    expect(readFileSync(join(out, 'confusion.svg'), 'utf8').match(/<rect /g)).toHaveLength(100);
    // the EMA model beside the raw one, and in the checkpoint; it is the averaged weights
    const emaModel = await loadModel(join(out, 'ema'));
    expect(existsSync(join(out, 'checkpoints', 'epoch-0002', 'ema', 'model.json'))).toBe(true);
    expect((await evaluate(emaModel, data.test)).top1).toBeCloseTo(r.emaEvaluation!.top1, 6);
    const differs = emaModel.getWeights().some((w, i) => Array.from(w.dataSync()).some((v, j) => Math.abs(v - r.model.getWeights()[i].dataSync()[j]) > 1e-6));
    expect(differs).toBe(true);
    [emaModel, r.model, r.emaModel!].forEach((m) => m.dispose());
  }, 240_000);

  it('resumes exactly with the recipe: the augmentation, schedule, momentum and EMA of an interrupted run equal a straight run', async () => {
    const small: Omit<TrainOptions, 'out'> = { ...opts, dataset: { train: cifarLike(64, 5, 16), test: cifarLike(20, 6, 16) }, warmup: 0 };
    const straight = await train({ ...small, out: tmp() });
    const out = tmp();
    const stop = new AbortController();
    const first = await train({ ...small, out, stop: stop.signal, log: (l) => l.startsWith('epoch 1/2') && stop.abort() });
    expect(first.history).toHaveLength(1);
    expect(existsSync(join(out, 'checkpoints', 'epoch-0001', 'ema', 'model.json'))).toBe(true);
    const resumed = await train({ ...small, out, resume: true });
    const flat = (m: tf.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));
    const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
    close(flat(straight.model), flat(resumed.model));
    close(flat(straight.emaModel!), flat(resumed.emaModel!));
    expect(resumed.history.map((h) => h.lr)).toEqual(straight.history.map((h) => h.lr));
    [straight, first, resumed].forEach((r) => [r.model, r.emaModel!].forEach((m) => m.dispose()));
  }, 240_000);

  it('the CLI trains with --recipe and flags overriding it, and refuses bad recipe flags', async () => {
    const dir = tmp();
    // CIFAR-10 binary records of the same images: label byte, then the red, green and blue planes
    const records = (set: ImageSet) => {
      const b = Buffer.alloc(set.count * 3073);
      for (let i = 0; i < set.count; i++) {
        b[i * 3073] = set.labels[i];
        for (let p = 0; p < 1024; p++) for (let k = 0; k < 3; k++) b[i * 3073 + 1 + k * 1024 + p] = set.pixels[(i * 1024 + p) * 3 + k];
      }
      return b;
    };
    writeFileSync(join(dir, 'data_batch_1.bin'), records(cifarLike(128, 3)));
    writeFileSync(join(dir, 'test_batch.bin'), records(cifarLike(40, 4)));
    const out = join(tmp(), 'run');
    const r = await runCli('train', 'architectures/cifar_resnet20.yaml', ...ONE_BLOCK.flatMap((v) => ['--set', v]), '--data', `cifar10-bin:${dir}`, '--recipe', 'cifar-resnet', '--epochs', '1', '--batch', '64', '--weight-decay', '1e-4', '--augment', 'flip', '--out', out, '--backend', 'wasm', '--no-progress');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^recipe cifar-resnet: sgd momentum 0\.9, lr 0\.1 cosine per step, batch 64, weight decay 0\.0001 \(not on biases and batch-norm\), label smoothing 0\.1, augment flip:0\.5$/m);
    expect(r.out).toMatch(/^held-out top-1 [\d.]+%, top-5 [\d.]+%; confusion/m);
    expect(existsSync(join(out, 'curves.svg'))).toBe(true);
    const bad = await runCli('train', 'architectures/cifar_resnet20.yaml', '--data', `cifar10-bin:${dir}`, '--augment', 'spin', '--out', join(tmp(), 'x'), '--backend', 'wasm', '--no-progress');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--augment: unknown word 'spin'/);
    const help = await runCli('train', '--help');
    expect(help.out).toMatch(/--recipe <name>/);
    expect(help.out).toMatch(/webgpu/);
    expect(help.out).toMatch(/imagefolder:DIR/);
  }, 240_000);
});
