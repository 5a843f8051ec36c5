/**
 * The hostile model-folder corpus (issue 19): test/corpus/models/cases.json lists model folders,
 * weights files and output paths that came from someone else (manifests that leave the folder,
 * FIFOs, /dev/zero, wrong sizes, NaN weights, outputs that would destroy the input) with the exit
 * code and message each must give. Every case runs in process through main(); the cases that
 * could hang or that touch the process's own handlers also run through the real CLI (node
 * bin/skipgraph.js; MODEL_CORPUS_CLI=all runs every case there). Besides its own expectation,
 * every case must print no stack trace, never the bytes of a sentinel file that lies outside the
 * model folder, and leave its `unchanged` files as they were. Outputs go to
 * test-output/model-corpus/ (the grep for stack frames runs on them).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { compileSource } from '../../src/compiler/files.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { parseSafetensors, serializeSafetensors, stateDictBytes, type TensorToWrite } from '../../src/targets/tfjs/weights/index.js';
import { ensureDist, pool, repoRoot, runBin, STACK_FRAME } from '../cli/bin.js';
import { TINY_FLATTEN_YAML } from '../parity/fixtures.js';

interface Op {
  op: string;
  path?: string;
  paths?: string[];
  target?: string;
  size?: number;
  text?: string;
  name?: string;
  set?: Record<string, unknown>;
  remove?: boolean;
  filters?: number;
  to?: string;
  index?: number;
  key?: string;
  value?: number | string;
  count?: number;
}

interface Case {
  id: string;
  item: number;
  setup: Op[];
  cmd: string[];
  exit: number;
  stderr?: string;
  stdout?: string;
  notStdout?: string;
  unchanged?: string[];
  changed?: string[];
  absent?: string[];
  maxStderr?: number;
}

const cases = (JSON.parse(readFileSync(join(repoRoot, 'test/corpus/models/cases.json'), 'utf8')) as { cases: Case[] }).cases;
/** The check on every output: no stack frame of Node's or of a .js file. */
export const TRACE = /at .*\(node:internal|\.js:[0-9]/;

const root = mkdtempSync(join(tmpdir(), 'skipgraph-model-corpus-'));
const arch = join(root, 'tiny.yaml');
const good = join(root, 'good.safetensors');
const goodModel = join(root, 'good-model');
/** Outside every case's folder: its bytes must never appear in an output. */
const sentinel = join(root, 'sentinel.bin');
const SENTINEL_TEXT = `SKIPGRAPH-SENTINEL-${process.pid}-never-print-me`;
const outputs = join(repoRoot, 'test-output/model-corpus');

const nameOf = (p: string, dir: string) => p.replace('$TMP', dir).replace('$MODEL', join(dir, 'model')).replace('$ARCH', arch).replace('$ST', join(dir, 'w.safetensors')).replace('$SENTINEL', sentinel).replace('$MNIST', join(repoRoot, 'architectures/mnist_resnet.yaml'));
const inModel = (p: string, dir: string) => (p.startsWith('$') ? nameOf(p, dir) : join(dir, 'model', p));
const hash = (p: string) => (existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'absent');

function editJson(dir: string, edit: (j: { modelTopology: { config: { layers: { name: string; config: Record<string, unknown> }[] } }; weightsManifest: { paths: string[]; weights: Record<string, unknown>[] }[] }) => void): void {
  const p = join(dir, 'model', 'model.json');
  const j = JSON.parse(readFileSync(p, 'utf8'));
  edit(j);
  writeFileSync(p, JSON.stringify(j));
}

/** The byte offset of a weight in weights.bin (float32 weights in manifest order). */
function weightOffset(dir: string, name: string): number {
  const j = JSON.parse(readFileSync(join(dir, 'model', 'model.json'), 'utf8'));
  let at = 0;
  for (const w of j.weightsManifest[0].weights) {
    if (w.name === name) return at;
    at += 4 * w.shape.reduce((a: number, b: number) => a * b, 1);
  }
  throw new Error(`no weight ${name}`);
}

function apply(op: Op, dir: string): void {
  const target = () => inModel(op.path!, dir);
  switch (op.op) {
    case 'manifest-paths':
      return editJson(dir, (j) => void (j.weightsManifest[0].paths = op.paths!));
    case 'spec':
      return editJson(dir, (j) => {
        const ws = j.weightsManifest[0].weights;
        const i = ws.findIndex((w) => w.name === op.name);
        if (op.remove) ws.splice(i, 1);
        else Object.assign(ws[i], op.set);
      });
    case 'topology-conv1-filters':
      return editJson(dir, (j) => void (j.modelTopology.config.layers.find((l) => l.name === 'conv1')!.config.filters = op.filters));
    case 'symlink':
      rmSync(target(), { force: true });
      return symlinkSync(nameOf(op.target!, dir), target());
    case 'fifo':
      rmSync(target(), { force: true });
      execFileSync('mkfifo', [target()]);
      return;
    case 'mknod-zero':
      try {
        execFileSync('mknod', [target(), 'c', '1', '5'], { stdio: 'pipe' });
      } catch {
        symlinkSync('/dev/zero', target()); // not root: the symlink case is refused before the device is reached
      }
      return;
    case 'truncate':
      return truncateSync(target(), op.size);
    case 'append':
      return appendFileSync(target(), op.text!.replace('$SENTINEL_TEXT', SENTINEL_TEXT));
    case 'write':
      rmSync(target(), { force: true });
      return writeFileSync(target(), op.text!.replace('$SENTINEL_TEXT', SENTINEL_TEXT));
    case 'mkdir':
      rmSync(target(), { force: true });
      return mkdirSync(target());
    case 'copy-model':
      return cpSync(goodModel, nameOf(op.to!, dir), { recursive: true });
    case 'weight-value': {
      const p = join(dir, 'model', 'weights.bin');
      const bytes = readFileSync(p);
      bytes.writeFloatLE(Number(op.value), weightOffset(dir, op.name!) + 4 * op.index!);
      return writeFileSync(p, bytes);
    }
    case 'st-value':
    case 'st-extra': {
      const p = join(dir, 'w.safetensors');
      const src = parseSafetensors(readFileSync(p));
      const tensors = new Map<string, TensorToWrite>();
      for (const [k, t] of src.header.tensors) tensors.set(k, { shape: t.shape, data: src.float32(k).slice() });
      if (op.op === 'st-value') tensors.get(op.key!)!.data[op.index!] = Number(op.value);
      else for (let i = 0; i < op.count!; i++) tensors.set(`extra.${i}.weight`, { shape: [1], data: new Float32Array([i]) });
      return writeFileSync(p, serializeSafetensors(tensors));
    }
    case 'lock':
      mkdirSync(nameOf(op.path!, dir), { recursive: true });
      return writeFileSync(join(nameOf(op.path!, dir), '.skipgraph.lock'), String(process.pid));
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

/** A fresh folder for a case: $TMP with the good model in $TMP/model and a copy of the safetensors. */
function prepare(c: Case, tag: string): string {
  const dir = join(root, `${tag}-${c.id}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  cpSync(goodModel, join(dir, 'model'), { recursive: true });
  cpSync(good, join(dir, 'w.safetensors'));
  mkdirSync(join(dir, 'model', 'sub'));
  for (const op of c.setup) apply(op, dir);
  return dir;
}

/** Every file written under dir (outputs), for the sentinel check. */
function writtenFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /out|other|run/.test(p.slice(dir.length))) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function checkCase(c: Case, dir: string, r: { code: number | null; out: string; err: string }, before: Map<string, string>, how: string): void {
  const what = `${c.id} (${how}): ${r.err}`;
  mkdirSync(outputs, { recursive: true });
  writeFileSync(join(outputs, `${c.id}.${how}.txt`), `$ ${c.cmd.join(' ')}\nexit ${r.code}\n--- stdout\n${r.out}--- stderr\n${r.err}`);
  expect(r.code, what).toBe(c.exit);
  if (c.stderr) expect(r.err, what).toMatch(new RegExp(c.stderr, 'm'));
  if (c.stdout) expect(r.out, what).toMatch(new RegExp(c.stdout, 'm'));
  if (c.notStdout) expect(r.out, what).not.toContain(c.notStdout);
  if (c.exit !== 0) expect(r.err, what).toMatch(/^error: /m);
  expect(r.err + r.out, what).not.toMatch(STACK_FRAME);
  expect(r.err + r.out, what).not.toMatch(TRACE);
  expect(r.err + r.out, what).not.toMatch(/internal error/);
  expect(r.err + r.out, what).not.toContain(SENTINEL_TEXT);
  expect(r.err + r.out, what).not.toMatch(/root:x:0:0/); // /etc/passwd
  for (const f of writtenFiles(dir)) expect(readFileSync(f).includes(SENTINEL_TEXT), `${c.id}: ${f} holds the sentinel`).toBe(false);
  if (c.maxStderr) expect(r.err.length, what).toBeLessThan(c.maxStderr);
  for (const p of c.unchanged ?? []) expect(hash(nameOf(p, dir)), `${c.id}: ${p} changed`).toBe(before.get(p));
  for (const p of c.changed ?? []) expect(hash(nameOf(p, dir)), `${c.id}: ${p} did not change`).not.toBe(before.get(p));
  for (const p of c.absent ?? []) expect(existsSync(nameOf(p, dir)), `${c.id}: ${p} was written`).toBe(false);
}

const snapshot = (c: Case, dir: string) => new Map([...(c.unchanged ?? []), ...(c.changed ?? [])].map((p) => [p, hash(nameOf(p, dir))]));

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
  writeFileSync(arch, TINY_FLATTEN_YAML);
  writeFileSync(sentinel, SENTINEL_TEXT);
  const g = compileSource(TINY_FLATTEN_YAML).graph!;
  const model = buildModel(g, { seed: 5, probe: false });
  for (const w of model.weights) if (w.originalName.endsWith('moving_variance')) w.write(tf.fill(w.shape as number[], 1.5));
  writeFileSync(good, stateDictBytes(model, g));
  model.dispose();
  const r = await inProcess(['weights', 'import', arch, '--from', good, '--out', goodModel, '--backend', 'cpu']);
  if (r.code !== 0) throw new Error(`the good model did not import: ${r.err}`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function inProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => void (out += s + '\n'), err: (s) => void (err += s + '\n'), color: false };
  const code = await main(['node', 'skipgraph', ...args], io);
  return { code, out, err };
}

describe('hostile model-folder corpus', () => {
  it('covers every item of issue 19 that concerns model folders and outputs', () => {
    expect(new Set(cases.map((c) => c.item))).toEqual(new Set([1, 2, 6, 7, 8, 9]));
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_, c) => {
    const dir = prepare(c, 'api');
    const before = snapshot(c, dir);
    const r = await inProcess(c.cmd.map((a) => nameOf(a, dir)));
    checkCase(c, dir, r, before, 'api');
  }, 60_000);
});

describe('hostile model-folder corpus through the real CLI', () => {
  const everything = process.env.MODEL_CORPUS_CLI === 'all';
  /** Those that could hang (FIFOs, devices, /proc) or leak, and one of each other item. */
  const PICKED = ['manifest-escapes-to-passwd-export', 'weights-fifo', 'model-argument-fifo', 'model-argument-dev-zero', 'safetensors-fifo', 'fold-out-proc', 'fold-out-json-inside-model', 'fold-nan-kernel', 'manifest-declares-2g-conv', 'train-second-run-into-one-out'];
  const picked = everything ? cases : cases.filter((c) => PICKED.includes(c.id));

  beforeAll(async () => {
    await ensureDist();
  }, 300_000);

  it(`exits as expected with no stack trace (${everything ? 'every case' : 'the cases that could hang or leak'}: ${picked.length} runs)`, async () => {
    const results = await pool(picked, 2, async (c) => {
      const dir = prepare(c, 'cli');
      const before = snapshot(c, dir);
      const r = await runBin(c.cmd.map((a) => nameOf(a, dir)));
      return { c, dir, before, r: { code: r.code, out: r.stdout, err: r.stderr.replace(/^The kernel '.*' for backend '.*' is already registered\n/gm, '') } };
    });
    for (const { c, dir, before, r } of results) checkCase(c, dir, r, before, 'cli');
  }, 300_000);
});
