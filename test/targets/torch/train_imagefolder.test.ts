/**
 * Issue 26's done-when: `skipgraph train architectures/cifar_resnet20.yaml --engine torch
 * --recipe cifar-resnet --data imagefolder:DIR` trains on a folder of PNGs this test writes, with
 * 2 processes, and resumes; the same command with `--engine tfjs` reads the same folder with the
 * same class map. The folder has traps where a naive listing differs from the TF.js engine's:
 * a hidden class folder, a nested folder inside a class (torchvision would recurse), a .txt file,
 * an upper-case .PNG, class names whose order depends on the sort. Small images (20x20 PNGs,
 * trained at 16x16), one block a stage, a few steps. Skips in one line without a Python with torch.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { listImageFolder } from '../../../src/data/imagefolder.js';
import { findPython } from '../../../src/targets/torch/train.js';
import { runCli } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/require.js';

let python: string | undefined;
try {
  python = findPython().python;
} catch (e) {
  skipWithout('image-folder training tests', (e as Error).message);
}

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-imagefolder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'pictures');
const CLASSES = ['a', 'B', '9', '10'];

/** A 20x20 PNG whose colour says its class (and a little noise). */
function png(file: string, label: number, k: number): void {
  const img = new PNG({ width: 20, height: 20 });
  for (let p = 0; p < 400; p++) {
    img.data[4 * p] = (label * 70 + p) % 256;
    img.data[4 * p + 1] = (label * 30 + k * 7) % 256;
    img.data[4 * p + 2] = (p * 3 + k) % 256;
    img.data[4 * p + 3] = 255;
  }
  writeFileSync(file, PNG.sync.write(img));
}

for (const [split, n] of [['train', 6], ['val', 2]] as const) {
  CLASSES.forEach((c, label) => {
    mkdirSync(join(root, split, c, 'nested'), { recursive: true });
    for (let k = 0; k < n; k++) png(join(root, split, c, k === 0 ? `IMG${k}.PNG` : `img${k}.png`), label, k);
    png(join(root, split, c, 'nested', 'deeper.png'), label, 99); // not an image of the class: no recursion
    writeFileSync(join(root, split, c, 'notes.txt'), 'not an image');
  });
  mkdirSync(join(root, split, '.hidden'), { recursive: true });
  png(join(root, split, '.hidden', 'x.png'), 0, 0);
}

const ARCH = 'architectures/cifar_resnet20.yaml';
const SETS = ['stages.0.blocks=1', 'stages.1.blocks=1', 'stages.2.blocks=1', 'input.height=16', 'input.width=16', `classes=${CLASSES.length}`].flatMap((s) => ['--set', s]);
const COMMON = [ARCH, ...SETS, '--recipe', 'cifar-resnet', '--data', `imagefolder:${root}`, '--batch', '8', '--no-progress'];
const history = (out: string) => JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { classes: string[]; history: { epoch: number }[] };

describe.skipIf(python === undefined)('train --data imagefolder:DIR on both engines', () => {
  const expected = listImageFolder(join(root, 'train')).classes; // the TF.js engine's listing

  it('--engine torch --recipe cifar-resnet: 2 processes, then --resume; the class map is the TF.js engine\'s', async () => {
    expect(expected).toEqual(['10', '9', 'B', 'a']);
    const out = join(dir, 'torch');
    const first = await runCli('train', ...COMMON, '--engine', 'torch', '--nproc', '2', '--epochs', '1', '--workers', '1', '--out', out);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/2 processes \(DDP, gloo, started by (spawn|torchrun)\)/);
    expect(first.out).toContain(`imagefolder:${root}: 24 training, 8 held-out images`);
    expect(first.out).toMatch(/^epoch 1\/1: loss \d+\.\d{4} acc \d+\.\d\d% \| held-out loss \d+\.\d{4} acc \d+\.\d\d% top-5 \d+\.\d\d% \| \d+\.\d s, \d+ img\/s$/m);
    expect(history(out).classes).toEqual(expected);

    const again = await runCli('train', ...COMMON, '--engine', 'torch', '--nproc', '2', '--epochs', '2', '--workers', '0', '--resume', '--out', out);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`resuming from ${join(out, 'checkpoint.pt')} after epoch 1\n`);
    expect(again.out).not.toContain('epoch 1/2:');
    expect(again.out).toMatch(/^epoch 2\/2: loss/m);
    expect(history(out).history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(history(out).classes).toEqual(expected);
  }, 600_000);

  it('--engine tfjs reads the same folder with the same class map', async () => {
    const out = join(dir, 'tfjs');
    const r = await runCli('train', ...COMMON, '--engine', 'tfjs', '--epochs', '1', '--backend', 'wasm', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`imagefolder:${root}: 24 training, 8 held-out images`);
    expect(history(out).classes).toEqual(expected);
  }, 600_000);
});
