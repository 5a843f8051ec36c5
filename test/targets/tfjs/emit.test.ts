import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompiledGraph, ConvAttrs, PoolAttrs } from '../../../src/compiler/index.js';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { PAD_SUFFIX } from '../../../src/targets/tfjs/emit.js';
import { compileYaml, tinyArch } from './helpers/compile.js';
import { nodeIO, values } from './helpers/model_io.js';
import { refConv, refPool } from './helpers/reference_ops.js';
import { maxAbsDiff } from './helpers/reference_conv.js';

/**
 * Each emitted op against PyTorch's definition, on the real input the node receives in a small
 * network: padding placement, -inf max-pool padding, count_include_pad, ceil mode, groups.
 */
beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
});

function stemNet(size: number, stem: string, extra: Partial<Parameters<typeof tinyArch>[0]> = {}): { graph: CompiledGraph; model: tf.LayersModel; x: Float32Array } {
  const graph = compileYaml(tinyArch({ input: `{ height: ${size}, width: ${size}, channels: 3 }`, stem, ...extra }));
  const model = buildModel(graph, { seed: 5 });
  return { graph, model, x: values(size * size * 3, size) };
}

const attrsOf = <T>(g: CompiledGraph, id: string) => g.nodes.find((n) => n.id === id)!.attrs as unknown as T;
const hasLayer = (m: tf.LayersModel, name: string) => m.layers.some((l) => l.name === name);

describe('convolutions', () => {
  const cases: [string, number, string, boolean][] = [
    ['stride 2, padding 1 on an even input (TF same would pad 0/1)', 10, '{ op: conv, name: c, filters: 5, kernel: 3, stride: 2, padding: 1, bias: true }', true],
    ['stride 2, padding 1 on an odd input (equals TF same)', 9, '{ op: conv, name: c, filters: 5, kernel: 3, stride: 2, padding: 1 }', false],
    ['asymmetric padding', 8, '{ op: conv, name: c, filters: 4, kernel: [3, 2], padding: [0, 2, 1, 0] }', true],
    ['7x7 stride 2 padding 3 (the ResNet stem)', 16, '{ op: conv, name: c, filters: 4, kernel: 7, stride: 2, padding: 3 }', true],
    ['dilation 2', 9, '{ op: conv, name: c, filters: 4, kernel: 3, dilation: 2 }', false],
    ['groups 3 (a custom layer)', 8, '{ op: conv, name: c, filters: 6, kernel: 3, groups: 3, bias: true }', false],
    ['groups with stride 2 on an even input', 8, '{ op: conv, name: c, filters: 6, kernel: 3, stride: 2, padding: 1, groups: 3 }', true],
  ];
  for (const [label, size, layer, explicit] of cases) {
    it(label, () => {
      const { graph, model, x } = stemNet(size, `  - ${layer}`);
      const { input, output } = nodeIO(model, graph, 'c', x);
      const [kernel, bias] = model.getLayer('c').getWeights().map((w) => w.dataSync() as Float32Array);
      const ref = refConv(input, kernel, attrsOf<ConvAttrs>(graph, 'c'), bias);
      expect([output.h, output.w, output.c]).toEqual([ref.h, ref.w, ref.c]);
      expect(maxAbsDiff(output.data, ref.data)).toBeLessThan(1e-4);
      expect(hasLayer(model, `c${PAD_SUFFIX}`)).toBe(explicit);
      model.dispose();
    });
  }
});

describe('pooling', () => {
  const conv = '  - { op: conv, filters: 4, kernel: 3, bias: true }\n';
  const cases: [string, number, string, boolean, boolean][] = [
    ['max 3x3 stride 2 padding 1, even input: padding never wins', 10, '{ op: maxpool, name: p, kernel: 3, stride: 2, padding: 1 }', false, true],
    ['max 3x3 stride 2 padding 1, odd input (TF same)', 9, '{ op: maxpool, name: p, kernel: 3, stride: 2, padding: 1 }', false, false],
    ['avg 3x3 stride 2 padding 1 counts padded zeros', 9, '{ op: avgpool, name: p, kernel: 3, stride: 2, padding: 1 }', true, true],
    ['avg 2x2 floor mode drops the odd row', 9, '{ op: avgpool, name: p, kernel: 2 }', true, false],
  ];
  for (const [label, size, layer, countPad, explicit] of cases) {
    it(label, () => {
      const { graph, model, x } = stemNet(size, `${conv}  - ${layer}`);
      const { input, output } = nodeIO(model, graph, 'p', x);
      expect(input.data.some((v) => v < 0)).toBe(true); // so -inf vs 0 padding would show
      const a = attrsOf<PoolAttrs>(graph, 'p');
      const kind = graph.nodes.find((n) => n.id === 'p')!.op === 'maxpool' ? 'max' : 'avg';
      const ref = refPool(input, kind, { ...a, countPad });
      expect([output.h, output.w, output.c]).toEqual([ref.h, ref.w, ref.c]);
      expect(maxAbsDiff(output.data, ref.data)).toBeLessThan(1e-5);
      expect(hasLayer(model, `p${PAD_SUFFIX}`)).toBe(explicit);
      model.dispose();
    });
  }

  it('avgdown shortcut: 2x2 ceil mode without counting padding, on an odd map', () => {
    const { graph, model, x } = stemNet(9, conv, {
      shortcut: 'avgdown',
      stages: '  - { block: basic, channels: 4, blocks: 1 }\n  - { block: basic, channels: 8, blocks: 1, stride: 2 }',
    });
    const id = 'layer2.0.downsample.0';
    const a = attrsOf<PoolAttrs>(graph, id);
    expect(a.ceil).toBe(true);
    const { input, output } = nodeIO(model, graph, id, x);
    const ref = refPool(input, 'avg', { ...a, countPad: false });
    expect([output.h, output.w]).toEqual([5, 5]);
    expect(maxAbsDiff(output.data, ref.data)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('shortcut and gating ops', () => {
  it('zeropad shortcut: x[::2, ::2] then zero channels before and after', () => {
    const { graph, model, x } = stemNet(9, '  - { op: conv, filters: 4, kernel: 3 }', {
      shortcut: 'zeropad',
      stages: '  - { block: basic, channels: 4, blocks: 1 }\n  - { block: basic, channels: 8, blocks: 1, stride: 2 }',
    });
    const sub = nodeIO(model, graph, 'layer2.0.downsample.0', x);
    const pad = nodeIO(model, graph, 'layer2.0.downsample.1', x);
    const { input } = sub;
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++)
        for (let c = 0; c < 8; c++) {
          const expected = c < 2 || c >= 6 ? 0 : input.data[(2 * i * 9 + 2 * j) * 4 + (c - 2)];
          expect(pad.output.data[(i * 5 + j) * 8 + c]).toBe(expected);
        }
    model.dispose();
  });

  it('squeeze-excitation multiplies each channel by its gate', () => {
    const { graph, model, x } = stemNet(8, '  - { op: conv, filters: 4, kernel: 3 }', {
      stages: '  - { block: bottleneck, channels: 4, blocks: 1, se: { reduction: 4 } }',
    });
    const mul = graph.nodes.find((n) => n.op === 'mul')!;
    const probe = tf.model({ inputs: model.inputs, outputs: [...mul.inputs, mul.id].map((id) => model.getLayer(id).output as tf.SymbolicTensor) });
    const [xs, gate, y] = tf.tidy(() => (probe.predict(tf.tensor4d(x, [1, 8, 8, 3])) as tf.Tensor[]).map((t) => t.dataSync()));
    expect(gate.length).toBe(16);
    for (let p = 0; p < 64; p++) for (let c = 0; c < 16; c++) expect(y[p * 16 + c]).toBeCloseTo(xs[p * 16 + c] * gate[c], 6);
    model.dispose();
  });
});

describe('flatten', () => {
  it('of an already flat tensor (after a global pool) is a no-op, as torch.flatten(x, 1) is; tf.layers.flatten refused it', () => {
    const graph = compileYaml(tinyArch({ head: '  - { op: global_avg_pool }\n  - { op: flatten, name: f }\n  - { op: dense, units: $classes }' }));
    const model = buildModel(graph, { seed: 5 });
    const x = tf.tensor4d(values(2 * 9 * 9 * 3, 3), [2, 9, 9, 3]);
    const pooled = tf.model({ inputs: model.inputs, outputs: model.getLayer('avgpool').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const flat = tf.model({ inputs: model.inputs, outputs: model.getLayer('f').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    expect(flat.shape).toEqual([2, 4]);
    expect(Array.from(flat.dataSync())).toEqual(Array.from(pooled.dataSync()));
    expect((model.predict(x) as tf.Tensor).shape).toEqual([2, 5]);
    model.dispose();
    tf.dispose([x, pooled, flat]);
  });
});
