/**
 * The training recipe's optimiser against PyTorch's: the same tiny network (conv, batch norm,
 * ReLU, global pooling, dense with bias), the same initial weights and batches, five steps of
 * torch.optim.SGD / AdamW with weight decay on the kernels only (timm's no_weight_decay for
 * rank <= 1), label smoothing and a schedule (StepLR; LinearLR warm-up then cosine), against
 * RecipeOptimizer + lrAt + smoothedCrossEntropy through model.trainOnBatch. Every parameter
 * must match within 1e-4 of its tensor's scale. Skips with one line without torch.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { random } from '../../../src/random/index.js';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { RecipeOptimizer, smoothedCrossEntropy, type OptimizerOptions } from '../../../src/targets/tfjs/train/optimizer.js';
import { lrAt, setLearningRate, type ScheduleOptions } from '../../../src/targets/tfjs/train/schedule.js';
import { announceSkip, findPython } from '../../parity/fixtures.js';

const found = findPython();
if ('skip' in found) announceSkip(found.skip);

const [N, H, W, C, F, K, STEPS] = [4, 6, 6, 3, 4, 3, 5];

interface Case {
  name: string;
  optimizer: 'sgd' | 'adamw';
  lr: number;
  options: OptimizerOptions;
  schedule: Omit<ScheduleOptions, 'lr' | 'epochs' | 'stepsPerEpoch'>;
  smoothing: number;
}

const CASES: Case[] = [
  { name: 'SGD momentum 0.9, weight decay 5e-4, StepLR(2, 0.1), label smoothing 0.1', optimizer: 'sgd', lr: 0.5, options: { momentum: 0.9, weightDecay: 5e-4 }, schedule: { schedule: 'step', stepSize: 2, gamma: 0.1, per: 'epoch' }, smoothing: 0.1 },
  { name: 'SGD Nesterov, weight decay 1e-2, gradient clipping at 0.5, constant rate', optimizer: 'sgd', lr: 0.3, options: { momentum: 0.9, nesterov: true, weightDecay: 1e-2, clipGradNorm: 0.5 }, schedule: { schedule: 'constant' }, smoothing: 0 },
  { name: 'AdamW weight decay 0.05, warm-up 2 then cosine', optimizer: 'adamw', lr: 0.01, options: { weightDecay: 0.05 }, schedule: { schedule: 'cosine', warmup: 2, per: 'epoch' }, smoothing: 0.1 },
];

const PY = String.raw`
import json, sys, torch
torch.set_default_dtype(torch.float64)
d = json.load(sys.stdin)
N, H, W, C, F, K = d['dims']
out = []
for case in d['cases']:
    conv = torch.nn.Conv2d(C, F, 3, padding=1, bias=False)
    bn = torch.nn.BatchNorm2d(F, eps=1e-3)
    fc = torch.nn.Linear(F, K)
    w = d['weights']
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(w[0]).reshape(3, 3, C, F).permute(3, 2, 0, 1))
        bn.weight.copy_(torch.tensor(w[1])); bn.bias.copy_(torch.tensor(w[2]))
        fc.weight.copy_(torch.tensor(w[3]).reshape(F, K).t()); fc.bias.copy_(torch.tensor(w[4]))
    model = torch.nn.Sequential(conv, bn, torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), fc)
    decay = [conv.weight, fc.weight]; no = [bn.weight, bn.bias, fc.bias]
    groups = [{'params': decay, 'weight_decay': case['wd']}, {'params': no, 'weight_decay': 0.0}]
    if case['optimizer'] == 'sgd':
        opt = torch.optim.SGD(groups, lr=case['lr'], momentum=case['momentum'], nesterov=case['nesterov'])
    else:
        opt = torch.optim.AdamW(groups, lr=case['lr'], betas=(0.9, 0.999), eps=1e-8)
    s = case['schedule']
    if s['schedule'] == 'step': sched = torch.optim.lr_scheduler.StepLR(opt, s['stepSize'], s['gamma'])
    elif s['schedule'] == 'constant': sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    else:
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=s['warmup'])
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=d['steps'] - s['warmup'])
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[s['warmup']])
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=case['smoothing'])
    lrs = []
    for step in range(d['steps']):
        x = torch.tensor(d['x'][step]).reshape(N, H, W, C).permute(0, 3, 1, 2)
        y = torch.tensor(d['y'][step])
        lrs.append(opt.param_groups[0]['lr'])
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if case['clip']: torch.nn.utils.clip_grad_norm_(model.parameters(), case['clip'])
        opt.step()
        sched.step()
    params = [conv.weight.permute(2, 3, 1, 0), bn.weight, bn.bias, fc.weight.t(), fc.bias]
    out.append({'lrs': lrs, 'params': [p.detach().reshape(-1).tolist() for p in params]})
print(json.dumps(out))
`;

function model(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [H, W, C], filters: F, kernelSize: 3, padding: 'same', useBias: false }));
  m.add(tf.layers.batchNormalization({ epsilon: 1e-3 }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: K }));
  return m;
}

describe.skipIf('skip' in found)('the optimiser recipes against PyTorch (5 steps)', () => {
  const rng = random(7);
  const init = model().getWeights().map((w) => Array.from(w.dataSync()).map(() => rng.uniform(-0.5, 0.5)));
  init[1] = init[1].map((v) => 1 + v); // gamma near 1
  // model.getWeights(): the trainable weights (conv kernel, gamma, beta, dense kernel, bias), then the moving mean and variance
  init[5] = init[5].map(() => 0);
  init[6] = init[6].map(() => 1);
  const xs = Array.from({ length: STEPS }, () => Array.from({ length: N * H * W * C }, () => rng.uniform(-1, 1)));
  const ys = Array.from({ length: STEPS }, () => Array.from({ length: N }, () => rng.int(0, K)));
  let torchOut: { lrs: number[]; params: number[][] }[] = [];

  beforeAll(async () => {
    await selectBackend({ force: 'wasm' });
    const input = { dims: [N, H, W, C, F, K], steps: STEPS, weights: init, x: xs, y: ys, cases: CASES.map((c) => ({ optimizer: c.optimizer, lr: c.lr, momentum: c.options.momentum ?? 0.9, nesterov: c.options.nesterov ?? false, wd: c.options.weightDecay ?? 0, clip: c.options.clipGradNorm ?? 0, schedule: { warmup: 0, ...c.schedule }, smoothing: c.smoothing })) };
    const r = spawnSync((found as { python: string }).python, ['-c', PY], { input: JSON.stringify(input), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    torchOut = JSON.parse(r.stdout);
  }, 150_000);

  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', async (_, i) => {
    const c = CASES[i];
    const m = model();
    m.setWeights(init.map((w, k) => tf.tensor(w, m.getWeights()[k].shape)));
    const opt = new RecipeOptimizer(c.optimizer, c.lr, c.options);
    m.compile({ optimizer: opt, loss: smoothedCrossEntropy(c.smoothing) });
    const lrs: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const lr = lrAt({ ...c.schedule, lr: c.lr, epochs: STEPS, stepsPerEpoch: 1 }, step);
      lrs.push(lr);
      setLearningRate(opt, lr);
      await m.trainOnBatch(tf.tensor4d(xs[step], [N, H, W, C]), tf.oneHot(tf.tensor1d(ys[step], 'int32'), K));
    }
    const ref = torchOut[i];
    lrs.forEach((lr, k) => expect(lr).toBeCloseTo(ref.lrs[k], 10));
    const trained = m.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    expect(trained).toHaveLength(ref.params.length);
    trained.forEach((p, k) => {
      const scale = Math.max(...ref.params[k].map(Math.abs));
      const moved = Math.max(...ref.params[k].map((v, j) => Math.abs(v - init[k][j])));
      const diff = Math.max(...p.map((v, j) => Math.abs(v - ref.params[k][j])));
      expect(moved, `parameter ${k} moved`).toBeGreaterThan(1e-3);
      expect(diff / scale, `parameter ${k}: max diff ${diff} of scale ${scale}`).toBeLessThan(1e-4);
    });
  });
});
