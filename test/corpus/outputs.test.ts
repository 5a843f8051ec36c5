/**
 * The hostile output corpus (issue 22, "Files are lost"): test/corpus/outputs/cases.json lists
 * output targets a careless user or an attacker could hand a command that writes (a user's file,
 * the command's own input under another name, links out and dangling, FIFOs, devices, the other
 * engine's run folder, a 0600 file replaced with --force, control characters in names), each with
 * the exit code and message it must give. Every case runs in process through main(); the FIFO
 * cases run through the real CLI as well, killed if they hang. Outputs go to
 * test-output/output-corpus/.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { TINY_FLATTEN_YAML } from '../parity/fixtures.js';
import { ensureDist, repoRoot, runBin, STACK_FRAME } from '../cli/bin.js';
import { tinySavedModel } from '../cli/tiny_model.js';

interface Op {
  op: 'write' | 'symlink' | 'hardlink' | 'fifo' | 'mkdir';
  path: string;
  target?: string;
  text?: string;
  mode?: string;
}

interface Case {
  id: string;
  class: string;
  cli?: boolean;
  setup: Op[];
  cmd: string[];
  exit: number;
  stderr?: string;
  unchanged?: string[];
  absent?: string[];
  mode?: Record<string, string>;
}

const cases = (JSON.parse(readFileSync(join(repoRoot, 'test/corpus/outputs/cases.json'), 'utf8')) as { cases: Case[] }).cases;
const root = mkdtempSync(join(tmpdir(), 'skipgraph-output-corpus-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const good = { model: '', st: '' };
const outputs = join(repoRoot, 'test-output/output-corpus');
/** What a terminal acts on: C0 controls but the line break, DEL, C1 controls, bidirectional overrides. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const varsOf = (dir: string): Record<string, string> => ({ $TMP: dir, $ARCH: join(dir, 'tiny.yaml'), $MNIST: join(dir, 'mnist.yaml'), $MODEL: join(dir, 'model'), $ST: join(dir, 'w.safetensors'), $OUTSIDE: join(dir, '..', `${dir.split('/').pop()}-outside.txt`) });
const fill = (s: string, v: Record<string, string>) => s.replace(/\$[A-Z]+/g, (k) => v[k] ?? k);
const hash = (p: string) => (existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'absent');

function prepare(c: Case, how: string): Record<string, string> {
  const dir = join(root, `${how}-${c.id}`);
  mkdirSync(dir);
  const v = varsOf(dir);
  writeFileSync(v.$ARCH, TINY_FLATTEN_YAML);
  cpSync(join(repoRoot, 'architectures/mnist_resnet.yaml'), v.$MNIST);
  cpSync(good.model, v.$MODEL, { recursive: true });
  cpSync(good.st, v.$ST);
  writeFileSync(v.$OUTSIDE, 'outside the chosen place\n');
  for (const op of c.setup) {
    const p = fill(op.path, v);
    mkdirSync(dirname(p), { recursive: true });
    if (op.op === 'write') writeFileSync(p, op.text ?? '', { mode: op.mode ? parseInt(op.mode, 8) : 0o644 });
    else if (op.op === 'symlink') symlinkSync(fill(op.target!, v), p);
    else if (op.op === 'hardlink') linkSync(fill(op.target!, v), p);
    else if (op.op === 'fifo') execFileSync('mkfifo', [p]);
    else mkdirSync(p, { recursive: true });
  }
  return v;
}

async function inProcess(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => void (out += s + '\n'), err: (s) => void (err += s + '\n'), color: false };
  const code = await main(['node', 'skipgraph', ...args], io);
  return { code, out, err };
}

function check(c: Case, v: Record<string, string>, before: Map<string, string>, r: { code: number | null; out: string; err: string }, how: string): void {
  mkdirSync(outputs, { recursive: true });
  writeFileSync(join(outputs, `${c.id}.${how}.txt`), `$ ${c.cmd.join(' ')}\nexit ${r.code}\n--- stdout\n${r.out}--- stderr\n${r.err}`);
  const what = `${c.id} (${how}): ${r.err}`;
  expect(r.code, what).toBe(c.exit);
  if (c.stderr) expect(r.err, what).toMatch(new RegExp(c.stderr, 'm'));
  if (c.exit === 1) expect(r.err, what).toMatch(/^error: /m);
  expect(r.err + r.out, what).not.toMatch(STACK_FRAME);
  expect(r.err + r.out, what).not.toMatch(/internal error/);
  expect(r.err + r.out, what).not.toMatch(RAW);
  for (const p of c.unchanged ?? []) expect(hash(fill(p, v)), `${c.id}: ${p} changed`).toBe(before.get(p));
  for (const p of c.absent ?? []) expect(existsSync(fill(p, v)), `${c.id}: ${p} exists`).toBe(false);
  for (const [p, mode] of Object.entries(c.mode ?? {})) expect((statSync(fill(p, v)).mode & 0o777).toString(8), `${c.id}: the mode of ${p}`).toBe(mode);
}

beforeAll(async () => {
  Object.assign(good, await tinySavedModel(root, 3));
}, 120_000);

describe('hostile output corpus', () => {
  it('covers every class of issue 22 "Files are lost" and the echo of names', () => {
    expect(new Set(cases.map((c) => c.class))).toEqual(new Set(['user-file', 'input', 'device', 'fifo', 'symlink', 'mode', 'engine', 'control-characters']));
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_, c) => {
    const v = prepare(c, 'api');
    const before = new Map((c.unchanged ?? []).map((p) => [p, hash(fill(p, v))]));
    check(c, v, before, await inProcess(c.cmd.map((a) => fill(a, v))), 'api');
  }, 60_000);
});

describe('hostile output corpus through the real CLI (the FIFO cases: a hang is killed)', () => {
  beforeAll(async () => {
    await ensureDist();
  }, 300_000);

  it.each(cases.filter((c) => c.cli).map((c) => [c.id, c] as const))('%s', async (_, c) => {
    const v = prepare(c, 'cli');
    const before = new Map((c.unchanged ?? []).map((p) => [p, hash(fill(p, v))]));
    const r = await runBin(c.cmd.map((a) => fill(a, v)), repoRoot, 60_000);
    check(c, v, before, { code: r.code, out: r.stdout, err: r.stderr }, 'cli');
  }, 90_000);
});
