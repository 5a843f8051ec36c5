/**
 * torchvision's initialisation as one plan (src/compiler/analyses/init.ts): the distribution and
 * fan of every state_dict tensor, and the two targets that draw it (ONNX's `export --seed`, TF.js's
 * buildModel) drawing those distributions: sample statistics of their values against the plan.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { blockLastBatchNorms } from '../../../src/compiler/analyses/block_last.js';
import { initPlan, type Draw } from '../../../src/compiler/analyses/init.js';
import { weightTensors } from '../../../src/compiler/analyses/state_dict.js';
import type { CompiledGraph } from '../../../src/compiler/index.js';
import { compileClean as compile } from './compile.js';
import { torchvisionInit } from '../../../src/targets/onnx/index.js';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';

const NET = compile(`
name: t
input: { height: 8, width: 8, channels: 32 }
classes: 10
stem:
  - { op: conv, filters: 64, kernel: 3 }
  - { op: bn }
  - { op: relu }
  - { op: conv, filters: 64, kernel: [3, 1], groups: 4, bias: true }
stages:
  - { block: basic, channels: 64, blocks: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`);

const drawOf = (plan: ReturnType<typeof initPlan>, key: string): Draw => plan.find((e) => e.key === key)!.draw;

describe('the initialisation plan', () => {
  it("torchvision's distributions: kaiming normal by fan_out for conv weights (groups or not), PyTorch's fan_in uniform for conv biases and linears, batch-norm constants", () => {
    const plan = initPlan(NET);
    expect(plan.map((e) => e.key)).toEqual(weightTensors(NET).map((t) => t.key));
    expect(drawOf(plan, 'conv1.weight')).toEqual({ kind: 'normal', std: Math.sqrt(2 / (64 * 9)), fanOut: 576 });
    expect(drawOf(plan, 'conv2.weight')).toEqual({ kind: 'normal', std: Math.sqrt(2 / (64 * 3)), fanOut: 192 });
    expect(drawOf(plan, 'conv2.bias')).toEqual({ kind: 'uniform', bound: 1 / Math.sqrt((64 / 4) * 3), fanIn: 48 });
    expect(drawOf(plan, 'fc.weight')).toEqual({ kind: 'uniform', bound: 1 / 8, fanIn: 64 });
    expect(drawOf(plan, 'fc.bias')).toEqual({ kind: 'uniform', bound: 1 / 8, fanIn: 64 });
    expect(['weight', 'bias', 'running_mean', 'running_var'].map((r) => drawOf(plan, `bn1.${r}`))).toEqual([1, 0, 0, 1].map((value) => ({ kind: 'constant', value })));
  });

  it('zero-init residual: the block-ending batch norms, and only they, start with weight 0', () => {
    const last = blockLastBatchNorms(NET);
    expect(last).toEqual(['layer1.0.bn2']);
    const plan = initPlan(NET, { zeroInitResidual: true });
    for (const e of plan.filter((x) => x.role === 'weight' && x.node.op === 'bn')) expect(e.draw).toEqual({ kind: 'constant', value: last.includes(e.node.id) ? 0 : 1 });
  });
});

/** Mean and standard deviation, and the largest magnitude. */
function stats(a: Float32Array): { mean: number; std: number; max: number } {
  let s = 0;
  let q = 0;
  let max = 0;
  for (const v of a) {
    s += v;
    q += v * v;
    max = Math.max(max, Math.abs(v));
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(q / a.length - mean * mean), max };
}

/** Values that follow a draw: normal by their spread, uniform by their range and spread, constants exactly. */
function expectDrawn(values: Float32Array, d: Draw, what: string): void {
  const s = stats(values);
  if (d.kind === 'constant') expect([...new Set(values)], what).toEqual([d.value]);
  else if (d.kind === 'normal') {
    expect(Math.abs(s.std / d.std - 1), what).toBeLessThan(0.06);
    expect(Math.abs(s.mean), what).toBeLessThan(0.1 * d.std);
  } else {
    expect(s.max, what).toBeLessThanOrEqual(d.bound);
    if (values.length >= 500) {
      expect(s.max, what).toBeGreaterThan(0.95 * d.bound);
      expect(Math.abs(s.std / (d.bound / Math.sqrt(3)) - 1), what).toBeLessThan(0.1);
    }
  }
}

describe('the targets draw the plan', () => {
  afterAll(() => tf.disposeVariables());

  it("ONNX (export --seed): every tensor's values follow its draw", () => {
    const w = torchvisionInit(NET, 5);
    for (const e of initPlan(NET)) expectDrawn(w.get(e.key)!.data, e.draw, e.key);
  });

  it("TF.js (buildModel with a seed): every conv and dense weight's values follow its draw; batch norms start at the plan's constants", async () => {
    await selectBackend({ force: 'cpu' });
    const model = buildModel(NET, { seed: 5, probe: false, zeroInitResidual: true });
    try {
      const plan = initPlan(NET, { zeroInitResidual: true });
      const kernel = (id: string, slot: number) => model.getLayer(id).getWeights()[slot].dataSync() as Float32Array;
      for (const id of ['conv1', 'conv2', 'layer1.0.conv1', 'layer1.0.conv2', 'fc']) {
        expectDrawn(kernel(id, 0), drawOf(plan, `${id}.weight`), `${id}.weight`);
        if (plan.some((e) => e.key === `${id}.bias`)) expectDrawn(kernel(id, 1), drawOf(plan, `${id}.bias`), `${id}.bias`);
      }
      for (const id of ['bn1', 'layer1.0.bn1', 'layer1.0.bn2']) expectDrawn(kernel(id, 0), drawOf(plan, `${id}.weight`), `${id}.weight`);
    } finally {
      model.dispose();
    }
  });
});
