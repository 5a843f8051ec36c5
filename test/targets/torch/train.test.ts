/**
 * The PyTorch trainer (python/skipgraph_train.py) through src/targets/torch/train.ts: DDP is real (two
 * gloo processes agree with one process that accumulates the same micro-batches), --resume
 * continues from the saved epoch, and a missing Python or torch is one message. A tiny
 * architecture (a stem and one basic block on 8x8x1) emitted by src/targets/torch/emit.ts, a tiny data
 * file, a few steps, one thread a process. Without a Python that imports torch the suite skips, in one line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/files.js';
import type { ImageSet } from '../../../src/data/dataset.js';
import { writeDataFile } from '../../../src/targets/torch/data_file.js';
import { emitTorch } from '../../../src/targets/torch/emit.js';
import { findPython, runTorchTraining, TorchError, type PythonInfo, type TorchTrainOptions } from '../../../src/targets/torch/train.js';
import { tinyGreyYaml } from '../../helpers/fixtures.js';
import { skipWithout } from '../../helpers/require.js';

let python: PythonInfo | undefined;
try {
  python = findPython();
} catch (e) {
  skipWithout('torch training tests', (e as Error).message);
}

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = tinyGreyYaml(8);
const graph = compileSource(TINY, { file: 'tiny.yaml' }).graph!;
const MODEL = join(dir, 'tiny.py');
writeFileSync(MODEL, emitTorch(graph, { version: 'test' }));

/** n 1x8x8 images whose class k lights every tenth pixel from k: learnable, seeded. */
function toy(n: number, seed: number): ImageSet {
  const pixels = new Float32Array(n * 64);
  const labels = new Uint8Array(n);
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    labels[i] = (i * 7) % 10;
    for (let p = 0; p < 64; p++) pixels[i * 64 + p] = 0.5 * r() + (p % 10 === labels[i] ? 0.5 : 0);
  }
  return { name: 'toy', height: 8, width: 8, channels: 1, classes: 10, count: n, pixels, scale: 1, labels, mean: [0.5], std: [0.3] };
}
const DATA = join(dir, 'toy.safetensors');
writeDataFile(DATA, { train: toy(96, 1), test: toy(40, 2) }, 'toy');

const run = (out: string, o: Partial<TorchTrainOptions> = {}, extra: string[] = []) => {
  const log: string[] = [];
  const done = runTorchTraining({ python: python!.python, model: MODEL, data: DATA, out: join(dir, out), epochs: 1, batch: 16, lr: 0.05, extra: ['--threads', '1', ...extra], log: (l) => log.push(l), err: () => {}, ...o });
  return done.then((result) => ({ result, log }));
};

/** max |a - b| per state_dict entry of two saved model.pt files. */
function diffs(a: string, b: string): Record<string, number> {
  const code = `import json, sys, torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert a.keys() == b.keys()
print(json.dumps({k: (a[k].double() - b[k].double()).abs().max().item() for k in a}))`;
  const r = spawnSync(python!.python, ['-c', code, join(dir, a, 'model.pt'), join(dir, b, 'model.pt')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, number>;
}

const isBuffer = (k: string) => /running_(mean|var)$|num_batches_tracked$/.test(k);

describe.skipIf(python === undefined)('torch training (python/skipgraph_train.py)', () => {
  it('DDP is real: 2 gloo processes x batch 8 for 3 SGD steps give the parameters of 1 process accumulating the same 2 micro-batches (1e-5)', async () => {
    const ddp = await run('ddp', { nproc: 2 }, ['--max-steps', '3']);
    expect(ddp.result).toMatchObject({ world: 2, device: 'cpu', steps: 3 });
    expect(ddp.log[0]).toMatch(/2 processes \(DDP, gloo, started by (spawn|torchrun)\)/);
    const acc = await run('accumulate', { nproc: 1 }, ['--max-steps', '3', '--accumulate', '2']);
    expect(acc.result).toMatchObject({ world: 1, steps: 3 });
    const whole = await run('whole', { nproc: 1 }, ['--max-steps', '3']); // one batch of 16: other batch-norm statistics

    const d = diffs('ddp', 'accumulate');
    const params = Object.keys(d).filter((k) => !isBuffer(k));
    expect(params).toEqual(expect.arrayContaining(['conv1.weight', 'bn1.weight', 'layer1.0.conv2.weight', 'layer1.0.bn2.bias', 'fc.weight', 'fc.bias']));
    expect(params).toHaveLength(11);
    for (const k of params) expect(d[k], k).toBeLessThanOrEqual(1e-5);
    // Buffers differ by design: DDP keeps rank 0's running statistics (one update a step, from its
    // own micro-batch), the accumulating process updates them once per micro-batch (twice a step).
    expect(d['bn1.num_batches_tracked']).toBe(3);
    expect(d['bn1.running_mean']).toBeGreaterThan(1e-4);
    // The comparison can fail: the same 3 steps on the whole batch at once end elsewhere.
    const w = diffs('ddp', 'whole');
    expect(Math.max(...params.map((k) => w[k]))).toBeGreaterThan(1e-4);
  }, 300_000); // three Python runs (one of two processes): slow on a busy 2-core machine

  it('--resume continues from the saved epoch, keeping the history; without --resume a used --out is refused', async () => {
    const first = await run('resume', { epochs: 1 });
    expect(first.result).toMatchObject({ startEpoch: 0, epochs: 1 });
    expect(first.log).toContain(`tiny: ${graph.totals.trainableParams.toLocaleString('en-US')} trainable params; toy: 96 training, 40 held-out images`);
    expect(first.log.some((l) => /^epoch 1\/1: loss \d+\.\d{4} acc \d+\.\d\d% \| held-out loss \d+\.\d{4} acc \d+\.\d\d% top-5 \d+\.\d\d% \| \d+\.\d s, \d+ img\/s$/.test(l))).toBe(true);

    await expect(run('resume', { epochs: 2 })).rejects.toThrow(new TorchError(`${join(dir, 'resume')} already holds a training run (checkpoint.pt); add --resume to continue it, or choose another --out`));

    const second = await run('resume', { epochs: 2, resume: true });
    expect(second.log).toContain(`resuming from ${join(dir, 'resume', 'checkpoint.pt')} after epoch 1`);
    expect(second.result).toMatchObject({ startEpoch: 1, epochs: 2, steps: 12 }); // 6 steps an epoch, 6 run now
    expect(second.result.history[0]).toEqual(first.result.history[0]);
    expect(second.result.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(second.log.filter((l) => l.startsWith('epoch '))).toHaveLength(1); // only epoch 2 trained
  }, 300_000);
});

describe('a missing Python or torch', () => {
  it('names the variable that points at a nonexistent interpreter, and what to install', () => {
    expect(() => findPython({ SKIPGRAPH_PYTHON: '/nonexistent/python3' })).toThrow(
      new TorchError(
        '--engine torch needs PyTorch: SKIPGRAPH_PYTHON=/nonexistent/python3: /nonexistent/python3 does not exist. ' +
          'Install PyTorch (Debian/Ubuntu: apt-get install python3-torch; elsewhere: pip install torch), ' +
          'or point skipgraph at a Python that has it: SKIPGRAPH_PYTHON=/path/to/python3.',
      ),
    );
  });

  it('says when the interpreter has no torch', () => {
    const bare = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
    if (bare.status === 0 || bare.error) return void process.stderr.write('no python3 without torch on PATH: that case untested here\n');
    expect(() => findPython({ ...process.env, SKIPGRAPH_PYTHON: 'python3' })).toThrow(/^--engine torch needs PyTorch: SKIPGRAPH_PYTHON=python3: python3 has no usable torch \(ModuleNotFoundError: No module named 'torch'\)\. Install PyTorch/);
  });
});
