/**
 * The two engines run one recipe (issue 26): for the same settings and file, the TF.js engine
 * (src/targets/tfjs/train, src/data/augment.ts, src/training) and the PyTorch trainer
 * (python/skipgraph_train_{recipe,data}.py, through helpers/recipe_probe.py) give
 * - the same learning rate at every step of short schedules (each kind, per step and per epoch,
 *   warm-up, both recipes of src/training/recipes.json);
 * - the same set of parameters under weight decay, for the same architecture file;
 * - the same augmentation statistics over many samples: crop offsets (each offset's frequency),
 *   flip rate, random-resized-crop areas and aspect ratios, mixup and cutmix lambdas.
 * Statistics are compared with tolerances of about 5 standard errors at these sample counts.
 * Skips in one line without a Python with torch.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/files.js';
import { augmentSample, mixBatch } from '../../../src/data/augment.js';
import { resizedCropBox } from '../../../src/data/transforms.js';
import { random } from '../../../src/random/index.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { RecipeOptimizer } from '../../../src/targets/tfjs/train/optimizer.js';
import { resolveSettings, type TrainOptions } from '../../../src/targets/tfjs/train/train.js';
import { layerVariable, stateDictSlots } from '../../../src/targets/tfjs/weights/state_dict.js';
import { emitTorch } from '../../../src/targets/torch/emit.js';
import { findPython } from '../../../src/targets/torch/train.js';
import { skipWithout } from '../../helpers/require.js';
import { lrAt } from '../../../src/training/schedule.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

let python: string | undefined;
try {
  python = findPython().python;
} catch (e) {
  skipWithout('recipe parity tests', (e as Error).message);
}
const PROBE = join(import.meta.dirname, 'helpers/recipe_probe.py');

function probe(request: unknown): Record<string, unknown> {
  const r = spawnSync(python!, [PROBE, JSON.stringify(request)], { encoding: 'utf8', timeout: 240_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** A schedule case: the flags (camelCase, as both engines name them), epochs and steps per epoch. */
interface LrCase {
  given: Record<string, unknown>;
  epochs: number;
  stepsPerEpoch: number;
}
const LR_CASES: LrCase[] = [
  { given: { recipe: 'cifar-resnet' }, epochs: 8, stepsPerEpoch: 5 },
  { given: { recipe: 'imagenet-resnet', lrStepSize: 2 }, epochs: 6, stepsPerEpoch: 3 },
  { given: { schedule: 'cosine', lr: 0.4, warmup: 1.5 }, epochs: 5, stepsPerEpoch: 4 },
  { given: { schedule: 'cosine', schedulePer: 'epoch', warmup: 2 }, epochs: 6, stepsPerEpoch: 3 },
  { given: { schedule: 'step', lrStepSize: 1.5, lrGamma: 0.5 }, epochs: 6, stepsPerEpoch: 4 },
  { given: { schedule: 'multistep', milestones: [2, 3.5], lrGamma: 0.2, warmup: 1 }, epochs: 5, stepsPerEpoch: 4 },
  { given: { schedule: 'onecycle', lr: 0.05 }, epochs: 4, stepsPerEpoch: 5 },
  { given: { schedule: 'onecycle', warmup: 1, schedulePer: 'epoch' }, epochs: 5, stepsPerEpoch: 2 },
  { given: { schedule: 'constant', warmup: 2 }, epochs: 3, stepsPerEpoch: 3 },
];

/** The TF.js engine's rates: its own settings resolution (TrainOptions names stepSize and gamma), then lrAt. */
function tfjsRates(c: LrCase): number[] {
  const { lrStepSize, lrGamma, ...rest } = c.given;
  const s = resolveSettings({ ...(rest as Partial<TrainOptions>), stepSize: lrStepSize as number | undefined, gamma: lrGamma as number | undefined, epochs: c.epochs });
  const o = { schedule: s.schedule, lr: s.lr, epochs: c.epochs, stepsPerEpoch: c.stepsPerEpoch, per: s.schedulePer, warmup: s.warmup, warmupFactor: s.warmupFactor, stepSize: s.stepSize, gamma: s.gamma, milestones: s.milestones };
  return Array.from({ length: c.epochs * c.stepsPerEpoch }, (_, k) => lrAt(o, k));
}

const ARCH = 'architectures/cifar_resnet20.yaml';
const SAMPLES = 4000;
const AUG = { height: 8, width: 8, samples: SAMPLES, padding: 4, flip: 0.5, rrcScale: 0.08, rrcHeight: 24, rrcWidth: 16, mixup: 0.2, cutmix: 1 };

/** The TF.js engine's draws of the same quantities (augmentSample, resizedCropBox, mixBatch). */
function tfjsAugment() {
  const { height: h, width: w, padding: p } = AUG;
  const rng = random(7);
  const marker = { data: Float32Array.from({ length: h * w }, (_, i) => i + 1), height: h, width: w, channels: 1 };
  const crops: number[][] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const o = augmentSample(rng, marker, { crop: { padding: p }, flip: AUG.flip }).data;
    const at = o.findIndex((v) => v > 0);
    const [y0, x0] = [Math.floor(at / w), at % w];
    const v = o[at] - 1;
    const flipped = o[at + 1] - 1 === v - 1;
    const col = flipped ? w - 1 - x0 : x0;
    crops.push([Math.floor(v / w) - y0 + p, (v % w) - col + p, flipped ? 1 : 0]);
  }
  const rrc = Array.from({ length: SAMPLES }, () => {
    const b = resizedCropBox(rng, AUG.rrcHeight, AUG.rrcWidth, [AUG.rrcScale, 1], [3 / 4, 4 / 3]);
    return [b.top, b.left, b.height, b.width];
  });
  const lam = (o: { mixup?: number; cutmix?: number }) => mixBatch(rng, new Float32Array(2 * h * w), Float32Array.from([1, 0, 0, 1]), 2, h, w, 1, 2, o);
  return { crops, rrc, mixup: Array.from({ length: SAMPLES }, () => lam({ mixup: AUG.mixup })), cutmix: Array.from({ length: SAMPLES }, () => lam({ cutmix: AUG.cutmix })) };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
/** Each value's frequency among `v` (values 0..n-1). */
const freq = (v: number[], n: number) => Array.from({ length: n }, (_, i) => v.filter((x) => x === i).length / v.length);
/** The share of `v` in each of `bins` equal bins of [0, 1]. */
const hist = (v: number[], bins: number) => freq(v.map((x) => Math.min(bins - 1, Math.floor(x * bins))), bins);

/** Compares two engines' statistics; returns the differences over tolerance, by name. */
export function compareAugment(a: ReturnType<typeof tfjsAugment>, b: ReturnType<typeof tfjsAugment>): string[] {
  const off: string[] = [];
  const near = (name: string, x: number, y: number, tol: number) => {
    if (!(Math.abs(x - y) <= tol)) off.push(`${name}: ${x.toFixed(4)} vs ${y.toFixed(4)} (tolerance ${tol})`);
  };
  const span = 2 * AUG.padding + 1;
  for (const [i, name] of [[0, 'crop top'], [1, 'crop left']] as const) freq(a.crops.map((c) => c[i]), span).forEach((f, k) => near(`${name} = ${k}`, f, freq(b.crops.map((c) => c[i]), span)[k], 0.025));
  near('flip rate', mean(a.crops.map((c) => c[2])), mean(b.crops.map((c) => c[2])), 0.04);
  const area = (r: number[][]) => r.map(([, , h, w]) => (h * w) / (AUG.rrcHeight * AUG.rrcWidth));
  const aspect = (r: number[][]) => r.map(([, , h, w]) => Math.log(w / h));
  near('rrc area mean', mean(area(a.rrc)), mean(area(b.rrc)), 0.025);
  near('rrc log-aspect mean', mean(aspect(a.rrc)), mean(aspect(b.rrc)), 0.025);
  for (const k of ['mixup', 'cutmix'] as const) {
    near(`${k} lambda mean`, mean(a[k]), mean(b[k]), 0.03);
    near(`${k} lambda std`, std(a[k]), std(b[k]), 0.03);
    hist(a[k], 5).forEach((f, i) => near(`${k} lambda in bin ${i}/5`, f, hist(b[k], 5)[i], 0.035));
  }
  return off;
}

describe.skipIf(python === undefined)('the two engines run the same recipe', () => {
  let torchSide: Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-parity-'));
  const model = join(dir, 'model.py');
  const graph = compileFile(ARCH, { sets: ['stages.0.blocks=1', 'stages.1.blocks=1', 'stages.2.blocks=1'] }).graph!;
  writeFileSync(model, emitTorch(graph, { version: 'test' }));
  beforeAll(() => {
    torchSide = probe({ lr: LR_CASES, decay: { model, given: { weightDecay: 5e-4 } }, augment: AUG });
  }, 240_000);

  it.each(LR_CASES.map((c, i) => [JSON.stringify(c.given), c.epochs, c.stepsPerEpoch, i] as const))('lr at every step: %s, %i epochs of %i steps', (_, __, ___, i) => {
    const mine = tfjsRates(LR_CASES[i]);
    const theirs = (torchSide.lr as number[][])[i];
    expect(theirs).toHaveLength(mine.length);
    mine.forEach((v, k) => expect(Math.abs(v - theirs[k]), `step ${k}: tfjs ${v}, torch ${theirs[k]}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
  });

  it('weight decay falls on the same parameters (conv and dense weights; not biases and batch-norm)', () => {
    const m = buildModel(graph, { seed: 0 });
    const opt = new RecipeOptimizer('sgd', 0.1, { weightDecay: 5e-4 });
    const decayed: string[] = [];
    for (const slot of stateDictSlots(graph)) {
      const v = layerVariable(m.getLayer(slot.node), slot.variable);
      if (v.trainable && opt.decays(v.name, v.shape.length)) decayed.push(slot.key);
    }
    m.dispose();
    opt.dispose();
    expect(decayed.length).toBeGreaterThan(5);
    expect(decayed.sort()).toEqual(torchSide.decay);
    expect(decayed.some((k) => /bn|bias/.test(k))).toBe(false);
  });

  it(`augmentation statistics over ${SAMPLES} samples: crop offsets, flip rate, rrc boxes, mixup and cutmix lambdas`, () => {
    const mine = tfjsAugment();
    expect(compareAugment(mine, torchSide as unknown as ReturnType<typeof tfjsAugment>)).toEqual([]);
    // The comparison can fail: a flip probability of 0.4 on one side, or mixup's alpha at 0.4, is seen.
    const planted = { ...mine, crops: mine.crops.map((c, k) => [c[0], c[1], k % 10 < 4 ? 1 : 0]) };
    expect(compareAugment(planted, torchSide as unknown as ReturnType<typeof tfjsAugment>).some((d) => d.startsWith('flip rate'))).toBe(true);
    const rng = random(3);
    const alpha04 = Array.from({ length: SAMPLES }, () => rng.beta(0.4, 0.4));
    expect(compareAugment({ ...mine, mixup: alpha04 }, torchSide as unknown as ReturnType<typeof tfjsAugment>).some((d) => d.startsWith('mixup lambda'))).toBe(true);
  });

  it('tf is loaded only for the decay check (no stray tensors)', () => {
    expect(tf.memory().numTensors).toBeLessThan(5);
  });
});
