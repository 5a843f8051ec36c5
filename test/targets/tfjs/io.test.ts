import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/targets/tfjs/backend.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { UserError } from '../../../src/errors/index.js';
import { writeFileAtomic } from '../../../src/io/atomic.js';
import { registerFileRouters } from '../../../src/targets/tfjs/io/file_io.js';
import { loadModel, saveModel } from '../../../src/targets/tfjs/io/model_files.js';
import { compileYaml, tinyArch } from './helpers/compile.js';
import { values } from './helpers/model_io.js';

/** Every custom layer: -inf padding (even-sized max-pool), groups, SE keepdims pool, subsample, channel pad. */
const yaml = tinyArch({
  input: '{ height: 10, width: 10, channels: 3 }',
  shortcut: 'zeropad',
  stem: '  - { op: conv, filters: 8, kernel: 3 }\n  - { op: maxpool, kernel: 3, stride: 2, padding: 1 }',
  stages: '  - { block: bottleneck, channels: 4, blocks: 1, groups: 2, se: { reduction: 4 } }\n  - { block: basic, channels: 32, blocks: 1, stride: 2 }',
});

beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
  registerFileRouters();
});

const tmp = () => mkdtempSync(join(tmpdir(), 'sg-io-'));

describe('file:// save and load', () => {
  it('round-trips a model with every custom layer: identical predictions, standard layout', async () => {
    const model = buildModel(compileYaml(yaml), { seed: 11 });
    const classes = model.layers.map((l) => l.getClassName());
    for (const c of ['NegInfPadding2D', 'GroupedConv2D', 'GlobalAveragePooling2DKeepDims', 'Subsample', 'ChannelPad']) expect(classes).toContain(c);
    // make the batch-norm statistics non-trivial so that they must round-trip too
    const bn = model.getLayer('layer1.0.bn2');
    bn.setWeights(bn.getWeights().map((w, i) => tf.add(w, tf.scalar(0.1 * (i + 1)))));
    const dir = tmp();
    await model.save(`file://${dir}`);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    expect(JSON.stringify(json.modelTopology)).toContain('"class_name":"GroupedConv2D"');

    const loaded = await tf.loadLayersModel(`file://${join(dir, 'model.json')}`);
    const x = tf.tensor4d(values(4 * 10 * 10 * 3, 3), [4, 10, 10, 3]);
    const before = (model.predict(x) as tf.Tensor).dataSync();
    const after = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(loaded.countParams()).toBe(model.countParams());
    model.dispose();
    loaded.dispose();
  });

  it('saveModel/loadModel take folders, and overwrite in place without leftovers', async () => {
    const model = buildModel(compileYaml(yaml), { seed: 1 });
    const dir = tmp();
    await saveModel(model, dir);
    const other = buildModel(compileYaml(yaml), { seed: 2 });
    await saveModel(other, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await loadModel(dir);
    const x = tf.tensor4d(values(10 * 10 * 3, 5), [1, 10, 10, 3]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((other.predict(x) as tf.Tensor).dataSync()));
    [model, other, loaded].forEach((m) => m.dispose());
  });

  it('reports a missing or broken model as a user error', async () => {
    const dir = tmp();
    await expect(loadModel(join(dir, 'nothing'))).rejects.toThrow(UserError);
    writeFileSync(join(dir, 'model.json'), '{"format": "layers-model"}');
    await expect(loadModel(dir)).rejects.toThrow(/no modelTopology/);
    expect(existsSync(join(dir, 'weights.bin'))).toBe(false);
  });
});

describe('atomic writes', () => {
  it('replace a file whole, and leave nothing behind when the rename fails', () => {
    const dir = tmp();
    const file = join(dir, 'weights.bin');
    writeFileAtomic(file, 'old');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(file))).toEqual([1, 2, 3]);
    const blocked = join(dir, 'model.json');
    mkdirSync(join(blocked, 'inside'), { recursive: true }); // a non-empty folder cannot be renamed over
    expect(() => writeFileAtomic(blocked, '{}')).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    expect(readdirSync(blocked)).toEqual(['inside']);
  });
});
