/** The state_dict mapping against compiled graphs, and loading into built models; no PyTorch needed. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile, compileSource, type CompiledGraph } from '../../src/compiler/files.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import {
  checkStateDict,
  layerVariable,
  loadStateDict,
  parseSafetensors,
  readStateDict,
  serializeSafetensors,
  StateDictError,
  stateDictBytes,
  stateDictSlots,
  type TensorMeta,
  type TensorToWrite,
} from '../../src/targets/tfjs/weights/index.js';
import { TINY_FLATTEN_YAML } from './fixtures.js';

const compile = (name: string, sets: string[] = []): CompiledGraph => {
  const r = compileFile(`architectures/${name}.yaml`, { sets });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.graph;
};
const keysOf = (g: CompiledGraph) => new Map(stateDictSlots(g).map((s) => [s.key, s.torchShape]));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('state_dict names and shapes from the compiled graph', () => {
  // torchvision's state_dict() sizes, less one num_batches_tracked per batch norm.
  it.each([
    ['resnet18', 122 - 20],
    ['resnet50', 320 - 53],
    ['resnext50_32x4d', 320 - 53],
    ['wide_resnet50_2', 320 - 53],
    ['resnet101', 626 - 104],
  ])('%s: %i tensors, their sizes summing to the compiler\'s parameter total', (name, count) => {
    const g = compile(name);
    const slots = stateDictSlots(g);
    expect(slots.length).toBe(count);
    expect(new Set(slots.map((s) => s.key)).size).toBe(count);
    expect(slots.reduce((n, s) => n + size(s.torchShape), 0)).toBe(g.totals.params);
    expect(slots.every((s) => size(s.torchShape) === size(s.tfShape))).toBe(true);
  });

  it('uses torchvision names and OIHW / [out, in] shapes', () => {
    const k = keysOf(compile('resnet50'));
    expect(k.get('conv1.weight')).toEqual([64, 3, 7, 7]);
    expect(k.get('bn1.running_var')).toEqual([64]);
    expect(k.get('layer1.0.downsample.0.weight')).toEqual([256, 64, 1, 1]);
    expect(k.get('layer2.0.conv2.weight')).toEqual([128, 128, 3, 3]);
    expect(k.get('layer4.2.bn3.bias')).toEqual([2048]);
    expect(k.get('fc.weight')).toEqual([1000, 2048]);
    expect(k.get('fc.bias')).toEqual([1000]);
    expect(k.has('conv1.bias')).toBe(false);
  });

  it('gives grouped convs PyTorch\'s [O, I/groups, kh, kw]', () => {
    const k = keysOf(compile('resnext50_32x4d'));
    expect(k.get('layer1.0.conv2.weight')).toEqual([128, 4, 3, 3]);
    expect(k.get('layer4.0.conv2.weight')).toEqual([1024, 32, 3, 3]);
    const slot = stateDictSlots(compile('resnext50_32x4d')).find((s) => s.key === 'layer1.0.conv2.weight')!;
    expect(slot.tfShape).toEqual([3, 3, 4, 128]);
  });

  it('names SE convs, the ResNet-D stem and the avg-down shortcut as timm does', () => {
    const se = keysOf(compile('seresnet50'));
    expect(se.get('layer1.0.se.fc1.weight')).toEqual([16, 256, 1, 1]);
    expect(se.get('layer1.0.se.fc1.bias')).toEqual([16]);
    expect(se.get('layer1.0.se.fc2.bias')).toEqual([256]);
    const d = keysOf(compile('resnet50d'));
    expect(d.get('conv1.0.weight')).toEqual([32, 3, 3, 3]);
    expect(d.get('conv1.1.running_mean')).toEqual([32]);
    expect(d.get('conv1.6.weight')).toEqual([64, 32, 3, 3]);
    expect(d.get('layer2.0.downsample.1.weight')).toEqual([512, 256, 1, 1]);
    expect(d.get('layer2.0.downsample.2.weight')).toEqual([512]);
    expect(d.has('layer2.0.downsample.0.weight')).toBe(false); // the avg pool holds nothing
  });

  it('has no tensors for zeropad (option A) shortcuts', () => {
    const k = keysOf(compile('cifar_resnet20'));
    expect([...k.keys()].some((n) => n.includes('downsample'))).toBe(false);
    expect(k.get('layer3.2.conv2.weight')).toEqual([64, 64, 3, 3]);
    expect(k.get('fc.weight')).toEqual([10, 64]);
  });
});

describe('layout conversions', () => {
  const slot = (g: CompiledGraph, key: string) => stateDictSlots(g).find((s) => s.key === key)!;
  const iota = (n: number) => new Float32Array(n).map((_, i) => i);

  it('moves conv weight [o, i, y, x] to kernel [y, x, i, o], and back', () => {
    const s = slot(compile('resnext50_32x4d'), 'layer1.0.conv2.weight'); // [128, 4, 3, 3]
    const [O, I, KH, KW] = s.torchShape;
    const tfData = s.toTf(iota(size(s.torchShape)));
    for (const [o, i, y, x] of [[0, 0, 0, 0], [127, 3, 2, 2], [5, 1, 0, 2], [64, 2, 1, 0]]) {
      expect(tfData[((y * KW + x) * I + i) * O + o]).toBe(((o * I + i) * KH + y) * KW + x);
    }
    expect([...s.toTorch(tfData)]).toEqual([...iota(size(s.torchShape))]);
  });

  it('transposes dense weights, reordering a flattened C,H,W input to H,W,C', () => {
    const g = compileSource(TINY_FLATTEN_YAML).graph!;
    const s = slot(g, 'fc.weight'); // [5, 512], input 4x4x32
    expect(s.torchShape).toEqual([5, 512]);
    const tfData = s.toTf(iota(5 * 512));
    const [H, W, C] = [4, 4, 32];
    for (const [o, c, y, x] of [[0, 0, 0, 0], [4, 31, 3, 3], [2, 7, 1, 2]]) {
      expect(tfData[((y * W + x) * C + c) * 5 + o]).toBe(o * 512 + (c * H + y) * W + x);
    }
    expect([...s.toTorch(tfData)]).toEqual([...iota(5 * 512)]);
    const plain = slot(compile('resnet18'), 'fc.weight'); // after global pooling: a plain transpose
    const t = plain.toTf(iota(1000 * 512));
    expect(t[3 * 1000 + 7]).toBe(7 * 512 + 3);
  });
});

describe('checking a state_dict against the architecture', () => {
  const metas = (g: CompiledGraph, prefix = '') => {
    const m = new Map<string, TensorMeta>();
    for (const s of stateDictSlots(g)) m.set(prefix + s.key, { dtype: 'F32', shape: s.torchShape });
    for (const s of stateDictSlots(g)) if (s.variable === 'gamma') m.set(`${prefix}${s.node}.num_batches_tracked`, { dtype: 'I64', shape: [] });
    return m;
  };

  it('accepts a complete file, num_batches_tracked included', () => {
    const g = compile('resnet18');
    expect(checkStateDict(stateDictSlots(g), metas(g))).toEqual({ missing: [], unexpected: [], mismatched: [] });
    expect(checkStateDict(stateDictSlots(g), metas(g, 'module.'), 'module.')).toEqual({ missing: [], unexpected: [], mismatched: [] });
  });

  it('lists every missing, unexpected and misshapen tensor', () => {
    const g = compile('resnet18');
    const m = metas(g);
    m.delete('layer1.0.conv1.weight');
    m.delete('bn1.running_var');
    m.set('layer5.0.conv1.weight', { dtype: 'F32', shape: [1] });
    m.set('fc.num_batches_tracked', { dtype: 'I64', shape: [] }); // fc is no batch norm
    m.set('fc.weight', { dtype: 'F32', shape: [10, 512] });
    m.set('fc.bias', { dtype: 'I64', shape: [1000] });
    const p = checkStateDict(stateDictSlots(g), m);
    expect(p.missing).toEqual(['bn1.running_var [64]', 'layer1.0.conv1.weight [64, 64, 3, 3]']);
    expect(p.unexpected).toEqual(['layer5.0.conv1.weight [1] F32', 'fc.num_batches_tracked [] I64']);
    expect(p.mismatched).toEqual([
      'fc.weight: file has [10, 512] F32, model needs [1000, 512] float',
      'fc.bias: file has [1000] I64, model needs [1000] float',
    ]);
    const err = new StateDictError('w.safetensors', 'resnet18', p);
    expect(err.message).toBe(
      [
        'w.safetensors does not fit resnet18:',
        '  2 tensors missing:',
        '    bn1.running_var [64]',
        '    layer1.0.conv1.weight [64, 64, 3, 3]',
        '  2 unexpected tensors:',
        '    layer5.0.conv1.weight [1] F32',
        '    fc.num_batches_tracked [] I64',
        '  2 tensors of the wrong shape:',
        '    fc.weight: file has [10, 512] F32, model needs [1000, 512] float',
        '    fc.bias: file has [1000] I64, model needs [1000] float',
      ].join('\n'),
    );
  });

  it('lists all offenders even for the wrong architecture entirely', () => {
    const p = checkStateDict(stateDictSlots(compile('resnet50')), metas(compile('resnet18')));
    expect(p.missing.length).toBe(165);
    expect(p.mismatched.length).toBe(24);
  });
});

describe('loading into a built model', () => {
  beforeAll(async () => {
    await selectBackend({ force: 'cpu' });
  });

  const run = (m: tf.LayersModel, x: tf.Tensor) => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync().slice());

  it.each([['tiny_flatten'], ['cifar_resnet20']])('%s: weights read out of one model and loaded into another give the same outputs', (name) => {
    const g = name === 'tiny_flatten' ? compileSource(TINY_FLATTEN_YAML).graph! : compile(name);
    const a = buildModel(g, { seed: 1, probe: false });
    const b = buildModel(g, { seed: 2, probe: false });
    // Random running statistics too, so batch norms are not identities.
    for (const s of stateDictSlots(g)) {
      if (s.variable !== 'moving_mean' && s.variable !== 'moving_variance') continue;
      const v = layerVariable(a.getLayer(s.node), s.variable);
      v.write(tf.randomUniform(v.shape as number[], 0.5, 1.5, 'float32', 7));
    }
    const x = tf.randomNormal([2, g.input.height, g.input.width, 3], 0, 1, 'float32', 3);
    const ya = run(a, x);
    expect(run(b, x)).not.toEqual(ya);
    const bytes = stateDictBytes(a, g);
    const report = loadStateDict(b, g, parseSafetensors(bytes, 'mem'));
    expect(report.ignored).toEqual([]);
    expect(report.tensors).toBe(stateDictSlots(g).length);
    expect(report.values).toBe(g.totals.params);
    expect(run(b, x)).toEqual(ya);
    a.dispose();
    b.dispose();
    x.dispose();
  });

  it('strips a DataParallel module. prefix, and loads nothing when anything is wrong', () => {
    const g = compileSource(TINY_FLATTEN_YAML).graph!;
    const a = buildModel(g, { seed: 1, probe: false });
    const b = buildModel(g, { seed: 2, probe: false });
    const sd = readStateDict(a, g);
    const prefixed = new Map<string, TensorToWrite>([...sd].map(([k, v]) => [`module.${k}`, v]));
    expect(loadStateDict(b, g, parseSafetensors(serializeSafetensors(prefixed))).prefix).toBe('module.');
    expect(readStateDict(b, g)).toEqual(sd);

    const c = buildModel(g, { seed: 3, probe: false });
    const before = readStateDict(c, g);
    const broken = new Map(sd);
    broken.delete('layer1.1.conv2.weight');
    broken.set('fc.weight', { shape: [5, 511], data: new Float32Array(5 * 511) });
    expect(() => loadStateDict(c, g, parseSafetensors(serializeSafetensors(broken), 'broken.safetensors'))).toThrowError(StateDictError);
    expect(() => loadStateDict(c, g, parseSafetensors(serializeSafetensors(broken), 'broken.safetensors'))).toThrowError(
      /broken\.safetensors does not fit tiny_flatten:\n {2}1 tensor missing:\n {4}layer1\.1\.conv2\.weight \[8, 4, 3, 3\]\n {2}1 tensor of the wrong shape:\n {4}fc\.weight: file has \[5, 511\] F32/,
    );
    expect(readStateDict(c, g)).toEqual(before);
    for (const m of [a, b, c]) m.dispose();
  });
});
