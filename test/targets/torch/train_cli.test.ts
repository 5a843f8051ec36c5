/**
 * `skipgraph train FILE --engine torch` end to end: the real emitted module of
 * architectures/mnist_resnet.yaml on a few real digits, two DDP processes, then --resume; in a
 * child process that reports whether TensorFlow.js was loaded (it must not be). A missing Python
 * or torch: exit 1, one message, no stack trace. Skips in one line without a Python with torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/files.js';
import { findPython } from '../../../src/targets/torch/train.js';
import { runCli } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/require.js';

let torch: string | undefined;
try {
  torch = findPython().python;
} catch (e) {
  skipWithout('train --engine torch tests', (e as Error).message);
}

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CHILD = join(import.meta.dirname, 'helpers/cli_child.ts');

/** The CLI in a fresh Node process; its last stderr line says whether TF.js's engine exists. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, tfjs: /tfjs loaded: (true|false)\n?$/.exec(r.stderr)?.[1] };
}

const TINY = ['--train-limit', '64', '--test-limit', '32', '--batch', '16', '--no-progress'];

describe.skipIf(torch === undefined)('train --engine torch', () => {
  it('trains the emitted mnist_resnet on 2 processes without loading TF.js, --resume continues it, and a used --out is refused without --resume', async () => {
    const out = join(dir, 'run');
    const first = cli('train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--nproc', '2', '--epochs', '1', '--out', out, ...TINY);
    expect(first.code, first.err).toBe(0);
    expect(first.tfjs).toBe('false');
    const lines = first.out.trim().split('\n');
    expect(lines[0]).toMatch(/^engine: torch \S+ on cpu \(\d+ threads? a process\), 2 processes \(DDP, gloo, started by (spawn|torchrun)\)$/);
    const params = compileFile('architectures/mnist_resnet.yaml').graph!.totals.trainableParams.toLocaleString('en-US'); // as the TF.js engine prints it
    expect(lines[1]).toBe(`mnist_resnet: ${params} trainable params; mnist: 64 training, 32 held-out images`);
    expect(lines[2]).toMatch(/^epoch 1\/1: loss \d+\.\d{4} acc \d+\.\d\d% \| held-out loss \d+\.\d{4} acc \d+\.\d\d% top-5 \d+\.\d\d% \| \d+\.\d s, \d+ img\/s$/);
    expect(lines[3]).toMatch(new RegExp(`^held-out accuracy \\d+\\.\\d\\d% after 1 epoch \\(\\d+\\.\\d s on torch cpu x2\\); model: ${join(out, 'model.pt')}$`));
    expect(readFileSync(join(out, 'model.py'), 'utf8')).toContain('SKIPGRAPH = {"name": "mnist_resnet"');
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { history: { epoch: number }[] };
    expect(history.history.map((h) => h.epoch)).toEqual([1]);

    const again = cli('train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--epochs', '2', '--resume', '--out', out, ...TINY);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`resuming from ${join(out, 'checkpoint.pt')} after epoch 1\n`);
    expect(again.out).not.toContain('epoch 1/2:');
    expect(again.out).toMatch(/epoch 2\/2: loss/);
    expect(again.out).toMatch(/held-out accuracy \d+\.\d\d% after 2 epochs \(\d+\.\d s on torch cpu\)/);
    expect(existsSync(join(out, 'model.pt'))).toBe(true);

    // A used --out without --resume: refused before any work, in one line.
    const used = await runCli('train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--out', out);
    expect(used).toEqual({ code: 1, out: '', err: `error: ${out} already holds a training run (checkpoint.pt); add --resume to continue it, or choose another --out\n` });
  }, 300_000);
});

describe('train --engine torch without Python or torch', () => {
  const saved = process.env.SKIPGRAPH_PYTHON;
  afterEach(() => {
    if (saved === undefined) delete process.env.SKIPGRAPH_PYTHON;
    else process.env.SKIPGRAPH_PYTHON = saved;
  });
  const fix = 'Install PyTorch (Debian/Ubuntu: apt-get install python3-torch; elsewhere: pip install torch), or point skipgraph at a Python that has it: SKIPGRAPH_PYTHON=/path/to/python3.';

  it('exits 1 with one message when SKIPGRAPH_PYTHON names no interpreter', async () => {
    process.env.SKIPGRAPH_PYTHON = '/nonexistent/python3';
    const r = await runCli('train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--out', join(dir, 'none'));
    expect(r).toEqual({ code: 1, out: '', err: `error: --engine torch needs PyTorch: SKIPGRAPH_PYTHON=/nonexistent/python3: /nonexistent/python3 does not exist. ${fix}\n` });
  });

  it('exits 1 with one message when the interpreter has no torch', async () => {
    // A Python without its site packages (-S): the interpreter runs, `import torch` fails.
    const bare = join(dir, 'python-without-torch');
    writeFileSync(bare, `#!/bin/sh\nexec ${existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'} -S "$@"\n`, { mode: 0o755 });
    process.env.SKIPGRAPH_PYTHON = bare;
    const r = await runCli('train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--out', join(dir, 'none'));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`error: --engine torch needs PyTorch: SKIPGRAPH_PYTHON=${bare}: ${bare} has no usable torch (ModuleNotFoundError: No module named 'torch'). ${fix}\n`);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(existsSync(join(dir, 'none'))).toBe(false); // refused before anything was written
  });
});
