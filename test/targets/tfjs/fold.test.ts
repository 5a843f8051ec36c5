import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeAs } from '../../../src/compiler/index.js';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { UserError } from '../../../src/errors/index.js';
import { foldForInference, planFolding } from '../../../src/targets/tfjs/fold.js';
import { loadModel, saveModel } from '../../../src/targets/tfjs/io/model_files.js';
import { compileArchitecture, compileYaml, tinyArch } from './helpers/compile.js';
import { randomiseBatchNorms, relativeDiff, values } from './helpers/model_io.js';

const SMALL = ['input.height=32', 'input.width=32'];

beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
});

async function compareFolded(graph: ReturnType<typeof compileYaml>, seed = 1) {
  const model = buildModel(graph, { seed, probe: false });
  randomiseBatchNorms(model, seed);
  const { height, width, channels } = graph.input;
  const x = tf.tensor(values(2 * height * width * channels, seed + 7), [2, height, width, channels]);
  const folded = foldForInference(model, graph);
  const [want, got] = [model.predict(x) as tf.Tensor, folded.model.predict(x) as tf.Tensor];
  const diff = await relativeDiff(want, got);
  tf.dispose([x, want, got]);
  return { model, folded, diff };
}

describe('planFolding', () => {
  it('resnet18: every conv takes its batch norm; the stem and each first conv of a block take their relu', () => {
    const graph = compileArchitecture('architectures/resnet18.yaml');
    const plan = planFolding(graph);
    const convs = graph.nodes.filter((n) => n.op === 'conv');
    expect(plan.convs.map((c) => c.conv)).toEqual(convs.map((c) => c.id));
    expect(plan.convs.every((c) => c.bn !== undefined)).toBe(true);
    expect(plan.convs.filter((c) => c.activation !== undefined).map((c) => c.conv)).toEqual([
      'conv1',
      ...['layer1', 'layer2', 'layer3', 'layer4'].flatMap((s) => [`${s}.0.conv1`, `${s}.1.conv1`]),
    ]);
    // The relu after each add has two users' worth of work to do (the add's output feeds the next
    // block twice): it stays, as do the adds.
    expect(plan.absorbedInto.get('layer1.0.bn2')).toBe('layer1.0.conv2');
    expect(plan.absorbedInto.get('layer2.0.downsample.1')).toBe('layer2.0.downsample.0');
    expect(plan.absorbedInto.has('layer1.0.relu2')).toBe(false);
  });

  it('pre-activation: a batch norm that does not follow a conv is kept', () => {
    const graph = compileArchitecture('architectures/preact_resnet18.yaml');
    const plan = planFolding(graph);
    const kept = graph.nodes.filter((n) => n.op === 'bn' && !plan.absorbedInto.has(n.id)).map((n) => n.id);
    // Each block's bn1 reads the add (or the stem's pool): no conv to fold into.
    expect(kept).toContain('layer1.0.bn1');
    expect(kept).toContain('layer4.1.bn1');
    // Inside the block conv1 -> bn2 -> relu2 is an ordinary chain and folds.
    expect(plan.absorbedInto.get('layer1.0.bn2')).toBe('layer1.0.conv1');
    expect(plan.absorbedInto.get('layer1.0.relu2')).toBe('layer1.0.conv1');
  });

  it('does not fold a batch norm whose conv output has another user', () => {
    // A bare stem conv feeding a pre-activation block: the block's first bn and its identity
    // shortcut (the add) both read the conv's output, so the conv must keep producing it.
    const graph = compileYaml(tinyArch({ stages: '  - { block: preact_basic, channels: 4, blocks: 1 }' }));
    const users = graph.nodes.filter((n) => n.inputs.includes('conv1')).map((n) => n.op).sort();
    expect(users).toEqual(['add', 'bn']);
    const plan = planFolding(graph);
    expect(plan.convs.map((c) => c.conv)).not.toContain('conv1');
    expect(plan.absorbedInto.has('layer1.0.bn1')).toBe(false);
  });

  it('does not fuse a relu into a grouped conv (no fused grouped kernel), but still folds its batch norm', () => {
    const graph = compileArchitecture('architectures/resnext50_32x4d.yaml');
    const plan = planFolding(graph);
    const grouped = plan.convs.find((c) => c.conv === 'layer1.0.conv2')!;
    expect(grouped.bn).toBe('layer1.0.bn2');
    expect(grouped.activation).toBeUndefined();
    expect(plan.convs.find((c) => c.conv === 'layer1.0.conv1')!.activation).toBe('layer1.0.relu1');
  });
});

/**
 * One shipped architecture per kind of block and shortcut (the deeper and wider variants of
 * these add nothing the fold treats differently, and cost a minute of suite time).
 */
const KINDS = [
  'mnist_resnet.yaml', // basic blocks on a small input
  'cifar_resnet20.yaml', // option-A shortcut (subsample + channel pad)
  'resnet18.yaml', // basic blocks, projection shortcuts
  'preact_resnet18.yaml', // pre-activation: batch norms that follow adds
  'resnet50.yaml', // bottlenecks
  'resnet50d.yaml', // deep stem, avgdown shortcut
  'resnext50_32x4d.yaml', // grouped convs
  'seresnet50.yaml', // squeeze-excitation (convs with bias, sigmoid gate)
];

describe('foldForInference on one architecture of each kind (32x32, wasm)', () => {
  it('the list names shipped files', () => {
    const shipped = readdirSync('architectures');
    for (const f of KINDS) expect(shipped).toContain(f);
  });
  for (const file of KINDS) {
    it(`${file}: the folded model's outputs equal the plain model's within 1e-4`, async () => {
      const graph = compileArchitecture(`architectures/${file}`, SMALL);
      const { model, folded, diff } = await compareFolded(graph);
      try {
        expect(diff).toBeLessThan(1e-4);
        expect(diff).toBeGreaterThan(0); // a different computation, not the same model twice
        const bns = graph.nodes.filter((n) => n.op === 'bn');
        const foldedBns = folded.plan.convs.filter((c) => c.bn !== undefined);
        const removed = foldedBns.reduce((n, c) => n + graph.nodes.find((x) => x.id === c.bn)!.params.trainable + graph.nodes.find((x) => x.id === c.bn)!.params.nonTrainable, 0);
        const convOf = (id: string) => nodeAs(graph.nodes.find((x) => x.id === id), 'conv');
        const added = foldedBns.filter((c) => !convOf(c.conv).attrs.bias).reduce((n, c) => n + convOf(c.conv).attrs.filters, 0);
        expect(folded.params).toEqual({ before: graph.totals.params, after: graph.totals.params - removed + added });
        expect(folded.model.layers.filter((l) => l.getClassName() === 'TorchBatchNorm')).toHaveLength(bns.length - foldedBns.length);
        // The skipgraph layers a folded model still needs (to load it, skipgraph's runtime).
        const needs: Record<string, string[]> = {
          'cifar_resnet20.yaml': ['ChannelPad', 'Subsample'],
          'preact_resnet18.yaml': ['NegInfPadding2D', 'TorchBatchNorm'], // its stem pools a conv's output, not a relu's
          'resnext50_32x4d.yaml': ['GroupedConv2D'],
          'resnet18.yaml': [],
          'resnet50.yaml': [],
        };
        if (file in needs) expect([...folded.skipgraphLayers].sort()).toEqual(needs[file]);
      } finally {
        model.dispose();
        folded.model.dispose();
      }
    });
  }
});

describe('the folded model as a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-fold-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resnet18 folds to stock TF.js layers only, with fused relus, and loads back to the same outputs', async () => {
    const graph = compileArchitecture('architectures/resnet18.yaml', SMALL);
    const { model, folded } = await compareFolded(graph, 3);
    model.dispose();
    await saveModel(folded.model, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const layers: { class_name: string; config: { name: string; activation?: string } }[] = (json.modelTopology.model_config ?? json.modelTopology).config.layers;
    // Stock classes only: the stem's max-pool reads a relu, so it pads with zeros, not -inf.
    const stock = ['InputLayer', 'Conv2D', 'ZeroPadding2D', 'MaxPooling2D', 'Add', 'Activation', 'GlobalAveragePooling2D', 'Dense'];
    expect(new Set(layers.map((l) => l.class_name))).toEqual(new Set(stock));
    expect(folded.skipgraphLayers).toEqual([]);
    expect(layers.filter((l) => l.class_name === 'BatchNormalization' || l.class_name.endsWith('BatchNorm'))).toEqual([]);
    expect(layers.filter((l) => l.class_name === 'Conv2D' && l.config.activation === 'relu')).toHaveLength(9);
    const loaded = await loadModel(dir);
    const x = tf.tensor(values(2 * 32 * 32 * 3, 5), [2, 32, 32, 3]);
    const [a, b] = [folded.model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(await relativeDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    folded.model.dispose();
    loaded.dispose();
  });
});

describe('foldForInference refuses a model of another architecture', () => {
  it('names the missing layer', () => {
    const graph = compileYaml(tinyArch());
    const other = buildModel(compileYaml(tinyArch({ stem: '  - { op: conv, filters: 4, kernel: 3, name: first }' })), { probe: false });
    try {
      expect(() => foldForInference(other, graph)).toThrow(UserError);
      expect(() => foldForInference(other, graph)).toThrow(/has no layer 'conv1'/);
    } finally {
      other.dispose();
    }
  });
});
