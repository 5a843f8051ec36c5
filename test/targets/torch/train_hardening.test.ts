/**
 * The PyTorch trainer under hostile or broken input (issue 22): a checkpoint is never unpickled
 * as code, a malformed data file is one line and exit 1 (a corpus of cases, each with its
 * message), an unexpected failure is one line (SKIPGRAPH_DEBUG=1 adds the traceback), a
 * diverging run stops with the step and what to try, and Node survives any line the trainer
 * prints. Python cases run `python3 skipgraph_train.py` directly; skips in one line without torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/files.js';
import type { ImageSet } from '../../../src/data/dataset.js';
import { writeDataFile } from '../../../src/targets/torch/data_file.js';
import { emitTorch } from '../../../src/targets/torch/emit.js';
import { findPython, parseEvent, runTorchTraining, TorchError, TRAIN_SCRIPT } from '../../../src/targets/torch/train.js';
import { tinyGreyYaml } from '../../helpers/fixtures.js';
import { skipWithout } from '../../helpers/require.js';

let python: string | undefined;
try {
  python = findPython().python;
} catch (e) {
  skipWithout('torch trainer hardening tests', (e as Error).message);
}

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-hard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = tinyGreyYaml(4);
const MODEL = join(dir, 'tiny.py');
writeFileSync(MODEL, emitTorch(compileSource(TINY, { file: 'tiny.yaml' }).graph!, { version: 'test' }));

function toy(n: number): ImageSet {
  const pixels = new Uint8Array(n * 64).map((_, i) => (i * 37) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  return { name: 'toy', height: 8, width: 8, channels: 1, classes: 10, count: n, pixels, scale: 1 / 255, labels, mean: [0.5], std: [0.25] };
}
const DATA = join(dir, 'toy.safetensors');
writeDataFile(DATA, { train: toy(32), test: toy(8) }, 'toy');

/** The script, in a fresh process: exit code, stdout, stderr. */
function script(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(python!, [TRAIN_SCRIPT, ...args], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A safetensors file from a header object and a data length (bytes of 0x01). */
function safetensors(header: unknown, data = 0, raw?: Buffer): Buffer {
  const json = raw ?? Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(data, 1)]);
}
const info = (o: Record<string, unknown> = {}) => ({ __metadata__: { info: JSON.stringify({ name: 't', classes: 10, scale: 1 / 255, mean: [0.5], std: [0.25], ...o }) } });
const t = (dtype: string, shape: number[], from: number, to: number) => ({ dtype, shape, data_offsets: [from, to] });
const GOOD = { train_x: t('U8', [2, 2, 2, 1], 0, 8), train_y: t('U8', [2], 8, 10), test_x: t('U8', [1, 2, 2, 1], 10, 14), test_y: t('U8', [1], 14, 15) };

/** The corpus: each malformed file and the message it must give (exit 1, one line, no traceback). */
const CORPUS: [string, Buffer, RegExp][] = [
  ['too short', Buffer.from([1, 2, 3]), /is not a valid skipgraph data file: too short$/],
  ['header length past the end', safetensors({}, 0, Buffer.from('{}')).fill(0xff, 0, 8), /its header length \d+ is past the end of the file$/],
  ['header not JSON', safetensors(null, 0, Buffer.from('{"a": ')), /its header is not JSON/],
  ['header a list', safetensors([1, 2]), /its header is not a JSON object$/],
  ['unknown dtype', safetensors({ ...info(), ...GOOD, train_x: t('F16', [2, 2, 2, 1], 0, 16) }, 16), /tensor 'train_x' has dtype 'F16'; expected one of F32, U8, I32, I64$/],
  ['negative dimension', safetensors({ ...info(), ...GOOD, train_x: t('U8', [-2, 2, 2, 1], 0, 8) }, 15), /tensor 'train_x' has shape \[-2, 2, 2, 1\]; dimensions must be whole numbers of 0 or more$/],
  ['offsets outside the data', safetensors({ ...info(), ...GOOD, test_y: t('U8', [1], 14, 99) }, 15), /tensor 'test_y' has data_offsets \[14, 99\] outside the 15 bytes of data$/],
  ['offsets that disagree with the shape', safetensors({ ...info(), ...GOOD, train_y: t('U8', [2], 8, 9) }, 15), /tensor 'train_y': shape \[2\] needs 2 bytes, its offsets hold 1$/],
  ['a missing tensor', safetensors({ ...info(), train_x: GOOD.train_x, train_y: GOOD.train_y, test_x: GOOD.test_x }, 15), /no tensor 'test_y'$/],
  ['labels of the wrong dtype', safetensors({ ...info(), ...GOOD, train_y: t('F32', [2], 8, 16), test_x: t('U8', [1, 2, 2, 1], 16, 20), test_y: t('U8', [1], 20, 21) }, 21), /train_y must be a 1-D tensor of U8 or I32 or I64, not 1-D F32$/],
  ['images and labels that disagree', safetensors({ ...info(), ...GOOD, train_y: t('U8', [1], 8, 9) }, 15), /train_x has 2 images but train_y 1 labels$/],
  ['a label past the classes', safetensors({ ...info({ classes: 1 }), ...GOOD }, 15), /train_y has labels 1\.\.1, outside 0\.\.0 \(info\.classes 1\)$/],
  ['no classes', safetensors({ ...info({ classes: 'ten' }), ...GOOD }, 15), /info\.classes is 'ten', not a positive whole number$/],
  ['a zero std', safetensors({ ...info({ std: [0] }), ...GOOD }, 15), /info\.mean and info\.std must be 1 finite numbers each \(std above 0\)$/],
];

describe.skipIf(python === undefined)('the PyTorch trainer refuses broken input in one line', () => {
  it('--check-data accepts a good file with a summary line', () => {
    const r = script(['--check-data', DATA]);
    expect(r).toEqual({ code: 0, out: `${DATA}: toy, 32 training and 8 held-out 8x8x1 images (torch.uint8), 10 classes\n`, err: '' });
  });

  it.each(CORPUS)('data file: %s', (name, bytes, message) => {
    const file = join(dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    writeFileSync(file, bytes);
    const r = script(['--check-data', file]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid skipgraph data file: `));
    expect(r.err.trim()).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('a FIFO or a device as the data file or as checkpoint.pt is refused at once, never read', () => {
    const fifo = join(dir, 'data.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const file of [fifo, '/dev/zero']) {
      const r = script(['--check-data', file]); // script() has a timeout: a blocked read would fail here
      expect(r.code, r.err).toBe(1);
      expect(r.err).toBe(`error: cannot read the data file ${file}: not a regular file (a FIFO, device, socket or folder)\n`);
    }
    const out = join(dir, 'fifo-run');
    mkdirSync(out);
    expect(spawnSync('mkfifo', [join(out, 'checkpoint.pt')]).status).toBe(0);
    const r = script(['--model', MODEL, '--data', DATA, '--out', out, '--resume', '--threads', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: \S+checkpoint\.pt is not a checkpoint skipgraph can load safely \(ValueError: not a regular file/);
  }, 120_000);

  it('a malformed data file given to training is the same one line through Node (TorchError), before any training', async () => {
    const bad = join(dir, 'bad_train.safetensors');
    writeFileSync(bad, CORPUS[11][1]);
    const out = join(dir, 'bad-data-run');
    await expect(runTorchTraining({ python: python!, model: MODEL, data: bad, out, epochs: 1, extra: ['--threads', '1'], log: () => {}, err: () => {} })).rejects.toThrow(
      new TorchError(`${bad} is not a valid skipgraph data file: train_y has labels 1..1, outside 0..0 (info.classes 1)`),
    );
    expect(existsSync(join(out, 'checkpoint.pt'))).toBe(false);
  }, 120_000);

  it('--resume never unpickles: a checkpoint.pt that would run a command is refused, and the command never runs', () => {
    const out = join(dir, 'pickle-run');
    mkdirSync(out);
    const canary = join(dir, 'canary');
    const make = `import os, torch
class Evil:
    def __reduce__(self):
        return (os.system, (${JSON.stringify(`touch ${canary}`)},))
torch.save({"format": "skipgraph-torch-checkpoint/2", "meta": "{}", "model": Evil()}, ${JSON.stringify(join(out, 'checkpoint.pt'))})`;
    expect(spawnSync(python!, ['-c', make]).status).toBe(0);
    const r = script(['--model', MODEL, '--data', DATA, '--out', out, '--resume', '--threads', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: \S+checkpoint\.pt is not a checkpoint skipgraph can load safely \(UnpicklingError: .*\)\n$/);
    expect(existsSync(canary)).toBe(false);
  }, 120_000);

  it('--resume checks what a safe checkpoint holds: a tensor of the wrong shape is named', () => {
    const out = join(dir, 'shape-run');
    mkdirSync(out);
    const make = `import json, sys, torch
sys.path.insert(0, ${JSON.stringify(dir)})
import tiny
m = tiny.build_model()
sd = m.state_dict()
sd["fc.weight"] = torch.zeros(3, 3)
meta = {"epoch": 0, "name": "tiny", "history": [], "paramGroups": []}
torch.save({"format": "skipgraph-torch-checkpoint/2", "meta": json.dumps(meta), "model": sd, "optimizer": {}}, ${JSON.stringify(join(out, 'checkpoint.pt'))})`;
    const made = spawnSync(python!, ['-c', make], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const r = script(['--model', MODEL, '--data', DATA, '--out', out, '--resume', '--threads', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ${join(out, 'checkpoint.pt')} is not a skipgraph checkpoint: its model: fc.weight is (3, 3) torch.float32, the model's (10, 4) torch.float32\n`);
  }, 120_000);

  it('an unexpected failure is one line and exit 1; SKIPGRAPH_DEBUG=1 adds the traceback', () => {
    const broken = join(dir, 'broken.py');
    writeFileSync(broken, 'SKIPGRAPH = {"name": "broken", "input": [1, 8, 8], "classes": 10}\ndef build_model(**kw):\n    raise ValueError("boom")\n');
    const r = script(['--model', broken, '--data', DATA, '--out', join(dir, 'broken-run'), '--threads', '1']);
    expect(r).toEqual({ code: 1, out: '', err: 'error: the PyTorch trainer failed: ValueError: boom (SKIPGRAPH_DEBUG=1 shows the traceback)\n' });
    const d = script(['--model', broken, '--data', DATA, '--out', join(dir, 'broken-run2'), '--threads', '1'], { SKIPGRAPH_DEBUG: '1' });
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/^Traceback \(most recent call last\):\n[\s\S]*ValueError: boom\nerror: the PyTorch trainer failed: ValueError: boom/);
  }, 120_000);

  it('a diverging run (--lr 1e30) stops with the step and what to try; every event line is JSON', async () => {
    const raw = script(['--model', MODEL, '--data', DATA, '--out', join(dir, 'nan-raw'), '--lr', '1e30', '--batch', '8', '--epochs', '2', '--threads', '1', '--events', '--events-every', '0']);
    expect(raw.code).toBe(1);
    for (const line of raw.out.split('\n').filter((l) => l.startsWith('@skipgraph '))) expect(typeof parseEvent(line.slice(11)), line).toBe('object');
    expect(raw.err).toMatch(/^error: the training loss became NaN or infinite at step \d+ \(epoch 1\); the run stopped, its last checkpoint is the last whole epoch\. Try a lower --lr \(this step's was [\d.]+e\+(29|30)\), --clip-grad 1, a warm-up \(--warmup 1\), or --no-amp\n$/);
    expect(existsSync(join(dir, 'nan-raw', 'checkpoint.pt'))).toBe(false);
    await expect(runTorchTraining({ python: python!, model: MODEL, data: DATA, out: join(dir, 'nan-node'), epochs: 1, batch: 8, lr: 1e30, extra: ['--threads', '1'], log: () => {}, err: () => {} })).rejects.toThrow(/^the training loss became NaN or infinite at step \d+/);
  }, 180_000);
});

describe.skipIf(python === undefined)('the trainer writes through no link', () => {
  it('links left in the run folder (history.json, model.pt, their temporary names) are replaced, never written through', () => {
    const out = join(dir, 'links');
    mkdirSync(out, { recursive: true });
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'the user\'s file\n');
    // A link at each final name, and at the temporary name the trainer would use (its pid is unknown: the
    // exclusive, no-follow create is what keeps it safe, so a link at any `.tmp` name is refused, not followed).
    for (const name of ['history.json', 'model.pt']) symlinkSync(outside, join(out, name));
    const r = script(['--model', MODEL, '--data', DATA, '--out', out, '--batch', '8', '--epochs', '1', '--threads', '1']);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(outside, 'utf8')).toBe('the user\'s file\n');
    for (const name of ['history.json', 'model.pt']) expect(lstatSync(join(out, name)).isFile(), name).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).epochs).toBe(1);
  }, 180_000);
});

describe.skipIf(python === undefined)('--compile', () => {
  it('runs torch.compile on torch 2.x and is refused in one line on 1.x', () => {
    const version = spawnSync(python!, ['-c', 'import torch; print(int(hasattr(torch, "compile")), torch.__version__)'], { encoding: 'utf8' }).stdout.trim().split(' ');
    const r = script(['--model', MODEL, '--data', DATA, '--out', join(dir, 'compiled'), '--compile', '--max-steps', '1', '--threads', '1']);
    if (version[0] === '1') return void expect(r.code, r.err).toBe(0);
    expect(r).toEqual({ code: 1, out: '', err: `error: --compile needs torch 2.0 or later (torch.compile); this is torch ${version[1]}. Leave --compile off\n` });
  }, 120_000);
});

describe('Node reads the trainer defensively', () => {
  it('parseEvent: NaN, broken JSON and non-objects are reasons, never exceptions', () => {
    expect(parseEvent('{"event": "batch", "loss": NaN}')).toMatch(/^not JSON: /);
    expect(parseEvent('{"event": ')).toMatch(/^not JSON: /);
    expect(parseEvent('[1]')).toBe('not an object with an event name');
    expect(parseEvent('{"loss": 1}')).toBe('not an object with an event name');
    expect(parseEvent('{"event": "batch", "loss": null}')).toEqual({ event: 'batch', loss: null });
  });

  it('a run whose trainer prints malformed lines still ends with its result, each bad line reported once', async () => {
    const fake = join(dir, 'fake-python');
    const done = { event: 'done', valAcc: null, valLoss: null, epochs: 1, startEpoch: 0, steps: 1, history: [], model: 'm.pt', checkpoint: 'c.pt', world: 1, device: 'cpu', launcher: 'none' };
    const lines = ['@skipgraph {"event": "batch", "done": 1, "loss": NaN}', '@skipgraph {"event": "epoch"}', '@skipgraph not json', `@skipgraph ${JSON.stringify({ event: 'epoch', epoch: 1, loss: null, acc: 0.5, valLoss: 1, valAcc: 0.25, valTop5: 1, seconds: 1, imagesPerSecond: 10 })}`, `@skipgraph ${JSON.stringify(done)}`];
    writeFileSync(fake, `#!/bin/sh\ncat <<'EOF'\n${lines.join('\n')}\nEOF\n`, { mode: 0o755 });
    const log: string[] = [];
    const err: string[] = [];
    const result = await runTorchTraining({ python: fake, model: MODEL, data: DATA, out: join(dir, 'fake'), epochs: 1, log: (l) => log.push(l), err: (l) => err.push(l) });
    expect(result).toMatchObject({ epochs: 1, steps: 1 });
    expect(err).toHaveLength(3);
    expect(err[0]).toMatch(/^warning: the PyTorch trainer sent a malformed event \(not JSON: .*\); ignored: @skipgraph \{"event": "batch", "done": 1, "loss": NaN\}$/);
    expect(err[1]).toBe("warning: the PyTorch trainer sent a malformed 'epoch' event (missing fields); ignored");
    expect(log).toEqual(['epoch 1/1: loss n/a acc 50.00% | held-out loss 1.0000 acc 25.00% top-5 100.00% | 1.0 s, 10 img/s']);
  });
});
