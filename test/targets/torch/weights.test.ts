/**
 * Weights both ways between the TF.js runtime and the emitted PyTorch module:
 * - a model trained with the TF.js runtime (a few SGD steps) is exported as `weights export`
 *   writes it and loads into the emitted module with strict=True; both give the same output;
 * - the emitted module's own fresh state_dict (safetensors, written by PyTorch) comes back
 *   through `weights import`'s loader into a TF.js model, which then gives PyTorch's output.
 * Both through the CLI, so the commands themselves are what is tested.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { compileSource } from '../../../src/compiler/files.js';
import { buildModel, selectBackend } from '../../../src/targets/tfjs/index.js';
import { loadModel, saveModel } from '../../../src/targets/tfjs/io/model_files.js';
import { loadStateDict } from '../../../src/targets/tfjs/weights/index.js';
import { values } from '../tfjs/helpers/model_io.js';
import { relDiff, runHarness, toNchw, torchPython } from './helpers.js';

const python = torchPython();

const YAML = `
name: tiny
input: { height: 12, width: 12, channels: 3 }
classes: 5
stem:
  - { op: conv, filters: 8, kernel: 3, padding: 1 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: basic, channels: 8, blocks: 1, stride: 1 }
  - { block: bottleneck, channels: 4, blocks: 2, stride: 2, groups: 2, width_per_group: 32, se: { reduction: 4 } }
head:
  - { op: flatten }
  - { op: dense, units: $classes }
`;

const io = () => {
  const lines: string[] = [];
  return { lines, io: { out: (s: string) => void lines.push(s), err: (s: string) => void lines.push(s), color: false } };
};

describe.skipIf(python === undefined)('torch target: weights both ways', () => {
  let dir: string;
  const graph = compileSource(YAML, { file: 'tiny.yaml' }).graph!;
  const batch = 2;
  const shape = [batch, 12, 12, 3];
  const x = values(batch * 12 * 12 * 3, 9);

  beforeAll(async () => {
    await selectBackend({ force: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-weights-'));
    writeFileSync(join(dir, 'tiny.yaml'), YAML);
    writeFileSync(join(dir, 'x.f32'), toNchw(x, shape));
    const c = io();
    expect(await main(['node', 'skipgraph', 'export', join(dir, 'tiny.yaml'), '--target', 'torch', '--out', join(dir, 'tiny.py')], c.io), c.lines.join('\n')).toBe(0);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a model trained with TF.js: weights export -> the emitted module, strict=True, same output', async () => {
    const model = buildModel(graph, { seed: 3 });
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
    // Three training steps move every weight and the running statistics away from their starts.
    await model.fit(tf.tensor(x, shape), tf.oneHot([1, 3], 5).toFloat(), { epochs: 3, batchSize: batch, verbose: 0 });
    const expected = (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array;
    await saveModel(model, join(dir, 'trained'));
    model.dispose();
    const c = io();
    const code = await main(['node', 'skipgraph', 'weights', 'export', join(dir, 'tiny.yaml'), '--model', join(dir, 'trained'), '--out', join(dir, 'trained.safetensors')], c.io);
    expect(code, c.lines.join('\n')).toBe(0);
    const res = runHarness(python!, [{ kind: 'run', id: 'trained', py: join(dir, 'tiny.py'), weights: join(dir, 'trained.safetensors'), input: join(dir, 'x.f32'), batch, shape: [3, 12, 12] }]).get('trained')!;
    expect(res.error).toBeUndefined();
    expect([res.missing, res.unexpected]).toEqual([[], []]);
    expect(relDiff(expected, res.output as number[])).toBeLessThan(1e-4);
  });

  it("the emitted module's state_dict -> weights import -> TF.js gives PyTorch's output", async () => {
    const sd = join(dir, 'torch.safetensors');
    const res = runHarness(python!, [{ kind: 'run', id: 'fresh', py: join(dir, 'tiny.py'), save: sd, input: join(dir, 'x.f32'), batch, shape: [3, 12, 12] }]).get('fresh')!;
    expect(res.error).toBeUndefined();
    const c = io();
    const code = await main(['node', 'skipgraph', 'weights', 'import', join(dir, 'tiny.yaml'), '--from', sd, '--out', join(dir, 'imported')], c.io);
    expect(code, c.lines.join('\n')).toBe(0);
    const model = await loadModel(join(dir, 'imported'));
    const y = (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array;
    model.dispose();
    expect(relDiff(res.output as number[], y)).toBeLessThan(1e-4);
    // The same file through the loader directly, into a fresh model: every tensor is used.
    const fresh = buildModel(graph, { seed: 99 });
    const report = loadStateDict(fresh, graph, sd);
    expect(report.ignored).toEqual([]);
    const y2 = (fresh.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array;
    fresh.dispose();
    expect(relDiff(res.output as number[], y2)).toBeLessThan(1e-4);
    expect(readFileSync(join(dir, 'tiny.py'), 'utf8').split('\n')[0]).toContain('generated by skipgraph');
  });
});
