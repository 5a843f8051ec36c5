import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { InternalError } from '../../../src/errors/index.js';
import { compileArchitecture, compileYaml, tinyArch } from './helpers/compile.js';
import { requireClassifier } from '../../../src/compiler/index.js';

const SMALL = ['input.height=32', 'input.width=32'];

beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
});

describe('buildModel on every shipped architecture (32x32)', () => {
  const files = readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort();
  it('finds the architectures', () => {
    expect(files.length).toBeGreaterThanOrEqual(13);
  });
  for (const file of files) {
    it(`${file}: layer names, output shapes and parameter counts match the compiler`, () => {
      const graph = compileArchitecture(`architectures/${file}`, SMALL);
      const model = buildModel(graph, { seed: 1 }); // probes real shapes and throws on any mismatch
      try {
        expect(model.countParams()).toBe(graph.totals.params);
        const trainable = model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
        expect(trainable).toBe(graph.totals.trainableParams);
        const output = requireClassifier(graph, 'this test').output;
        const out = model.getLayer(output);
        expect(out.outputShape).toEqual([null, ...graph.nodes.find((n) => n.id === output)!.shape]);
        for (const node of graph.nodes) expect(model.getLayer(node.id).name).toBe(node.id);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('buildModel refuses a graph the model disagrees with', () => {
  const base = () => compileYaml(tinyArch());
  it('a wrong output shape is an internal error naming the node', () => {
    const graph = base();
    const node = graph.nodes.find((n) => n.id === 'layer1.0.conv2')!;
    node.shape = [node.shape[0], node.shape[1] + 1, node.shape[2]];
    expect(() => buildModel(graph)).toThrow(InternalError);
    expect(() => buildModel(graph)).toThrow(/layer1\.0\.conv2: output \[9, 9, 4\], compiler says \[9, 10, 4\]/);
  });
  it('a wrong parameter count is an internal error', () => {
    const graph = base();
    graph.nodes.find((n) => n.id === 'layer1.0.bn1')!.params.nonTrainable += 1;
    expect(() => buildModel(graph)).toThrow(/layer1\.0\.bn1: 8 trainable \+ 8 non-trainable parameters, compiler says 8 \+ 9/);
  });
  it('a wrong total is an internal error', () => {
    const graph = base();
    graph.totals.params += 3;
    expect(() => buildModel(graph)).toThrow(InternalError);
  });
});

describe('initialisation', () => {
  const graph = () => compileArchitecture('architectures/resnet18.yaml', SMALL);
  const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

  it('is reproducible by seed and differs between seeds', () => {
    const small = () => compileArchitecture('architectures/cifar_resnet20.yaml');
    const [a, b, c] = [7, 7, 8].map((seed) => buildModel(small(), { seed, probe: false }));
    for (const name of ['conv1', 'layer3.1.conv2', 'fc']) {
      const [wa, wb, wc] = [a, b, c].map((m) => m.getLayer(name).getWeights()[0].dataSync());
      expect(Array.from(wa)).toEqual(Array.from(wb));
      expect(Array.from(wa)).not.toEqual(Array.from(wc));
    }
    // different layers of one model draw different values
    const l1 = a.getLayer('layer1.0.conv1').getWeights()[0].dataSync();
    const l2 = a.getLayer('layer1.0.conv2').getWeights()[0].dataSync();
    expect(Array.from(l1.slice(0, 16))).not.toEqual(Array.from(l2.slice(0, 16)));
    [a, b, c].forEach((m) => m.dispose());
  });

  it("follows torchvision: Kaiming normal (fan_out) convs, PyTorch's default dense, BN 1 and 0", () => {
    const m = buildModel(graph(), { seed: 3, probe: false });
    const std = (v: Float32Array) => {
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    };
    // layer4.0.conv2: 3x3x512x512, fan_out = 512 * 9; plain (not truncated) normal.
    const k = m.getLayer('layer4.0.conv2').getWeights()[0].dataSync() as Float32Array;
    expect(std(k)).toBeCloseTo(Math.sqrt(2 / (512 * 9)), 3);
    const sd = Math.sqrt(2 / (512 * 9));
    expect(maxAbs(k)).toBeGreaterThan(4 * sd); // a truncated normal stops at 2 sd
    const [fcW, fcB] = m.getLayer('fc').getWeights().map((w) => w.dataSync() as Float32Array);
    const bound = 1 / Math.sqrt(512);
    for (const v of [fcW, fcB]) {
      expect(maxAbs(v)).toBeLessThanOrEqual(bound);
    }
    expect(maxAbs(fcW)).toBeGreaterThan(0.98 * bound);
    const [gamma, beta, mean, variance] = m.getLayer('layer2.1.bn2').getWeights().map((w) => Array.from(w.dataSync()));
    expect(new Set(gamma)).toEqual(new Set([1]));
    expect(new Set(beta)).toEqual(new Set([0]));
    expect(new Set(mean)).toEqual(new Set([0]));
    expect(new Set(variance)).toEqual(new Set([1]));
    m.dispose();
  });

  it('zero-inits the last batch norm of every block when asked (bn2 basic, bn3 bottleneck)', () => {
    const gammaOf = (m: tf.LayersModel, id: string) => Array.from(m.getLayer(id).getWeights()[0].dataSync());
    const r18 = buildModel(graph(), { zeroInitResidual: true, probe: false });
    for (const id of ['layer1.0.bn2', 'layer1.1.bn2', 'layer4.1.bn2']) expect(new Set(gammaOf(r18, id))).toEqual(new Set([0]));
    for (const id of ['bn1', 'layer1.0.bn1', 'layer2.0.downsample.1']) expect(new Set(gammaOf(r18, id))).toEqual(new Set([1]));
    r18.dispose();
    const r50 = buildModel(compileArchitecture('architectures/seresnet50.yaml', SMALL), { zeroInitResidual: true, probe: false });
    expect(new Set(gammaOf(r50, 'layer3.2.bn3'))).toEqual(new Set([0]));
    expect(new Set(gammaOf(r50, 'layer3.2.bn2'))).toEqual(new Set([1]));
    r50.dispose();
  });

  it('maps batch-norm epsilon and momentum from PyTorch', () => {
    const m = buildModel(compileYaml(tinyArch({ stem: '  - { op: conv, filters: 4, kernel: 3 }\n  - { op: bn, epsilon: 0.001, momentum: 0.25 }' })), { probe: false });
    expect(m.getLayer('bn1').getConfig()).toMatchObject({ epsilon: 0.001, momentum: 0.75 });
    expect(m.getLayer('layer1.0.bn1').getConfig()).toMatchObject({ epsilon: 1e-5, momentum: 0.9 });
    m.dispose();
  });
});
