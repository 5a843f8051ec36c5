/**
 * Progress everywhere (issue 26): without a terminal, both engines print progress lines with the
 * step, loss, rate, images/s and ETA, from the same formatter (src/training/format.ts): the TF.js
 * engine in this process, the PyTorch trainer through its events. Tiny runs, a line every step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/files.js';
import type { ImageSet } from '../../src/data/index.js';
import { train } from '../../src/targets/tfjs/train/train.js';
import { writeDataFile } from '../../src/targets/torch/data_file.js';
import { emitTorch } from '../../src/targets/torch/emit.js';
import { findPython, runTorchTraining } from '../../src/targets/torch/train.js';
import { progressLines } from '../../src/training/index.js';

let python: string | undefined;
try {
  python = findPython().python;
} catch (e) {
  process.stderr.write(`torch progress test skipped: ${(e as Error).message}\n`);
}
const dir = mkdtempSync(join(tmpdir(), 'skipgraph-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = `name: tiny
input: { height: 8, width: 8, channels: 1 }
classes: 4
stem:
  - { op: conv, filters: 4, kernel: 3 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: basic, channels: 4, blocks: 1, stride: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;
writeFileSync(join(dir, 'tiny.yaml'), TINY);
const set = (n: number): ImageSet => ({ name: 'toy', height: 8, width: 8, channels: 1, classes: 4, count: n, pixels: new Uint8Array(n * 64).map((_, i) => (i * 31) % 256), scale: 1 / 255, labels: new Uint8Array(n).map((_, i) => i % 4), mean: [0.5], std: [0.25] });
const LINE = /^epoch 1\/1 step (\d+)\/4 \(batch \1\/4\): loss \d+\.\d{4} acc \d+\.\d% \| lr [\d.e-]+ \| \d+ img\/s \| eta \d+s$/;

describe('progress lines without a terminal', () => {
  it('the TF.js engine: a line a step, with the rate of the schedule', async () => {
    const lines: string[] = [];
    await train({ arch: join(dir, 'tiny.yaml'), dataset: { train: set(32), test: set(8) }, epochs: 1, batch: 8, schedule: 'constant', lr: 0.05, backend: 'cpu', out: join(dir, 'tfjs'), progress: progressLines((l) => lines.push(l), { steps: 1 }) });
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(LINE);
    expect(lines[3]).toMatch(/ lr 0\.05 \|/);
  }, 240_000);

  it.skipIf(python === undefined)('the PyTorch engine: the same line from its events', async () => {
    const model = join(dir, 'tiny.py');
    writeFileSync(model, emitTorch(compileSource(TINY, { file: 'tiny.yaml' }).graph!, { version: 'test' }));
    const data = join(dir, 'toy.safetensors');
    writeDataFile(data, { train: set(32), test: set(8) }, 'toy');
    const lines: string[] = [];
    await runTorchTraining({ python: python!, model, data, out: join(dir, 'torch'), epochs: 1, batch: 8, schedule: 'constant', lr: 0.05, extra: ['--threads', '1', '--events-every', '0'], progress: progressLines((l) => lines.push(l), { steps: 1 }) });
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(LINE);
    expect(lines[3]).toMatch(/ lr 0\.05 \|/);
  }, 240_000);
});
