/**
 * The output policy on every command that writes (issue 22, "Files are lost"). The list of
 * commands and options comes from the program main.ts builds, not from a hand list: an option that
 * looks like a writer and is not declared in src/cli/writes.ts fails the first test, so a new
 * writer cannot skip the policy. Then every declared writer is tried against each hostile target:
 * a user's file (kept, exit 1, the message names --force), the command's own input (refused even
 * with --force), a link to a file outside (untouched), a dangling link, a FIFO (no hang), a device,
 * another engine's run folder, and a 0600 file replaced with --force (still 0600). Its own earlier
 * output is replaced without --force (the ownership marks work).
 */
import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { buildProgram, main } from '../../src/cli/main.js';
import { NOT_WRITERS, WRITERS, type Writer } from '../../src/cli/writes.js';
import { ensureDist, repoRoot, runBin, STACK_FRAME } from './bin.js';
import { tinySavedModel } from './tiny_model.js';

const root = mkdtempSync(join(tmpdir(), 'skipgraph-writers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const good = { st: '', model: '', arch: '' };

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => void (out += s + '\n'), err: (s) => void (err += s + '\n'), color: false };
  const code = await main(['node', 'skipgraph', ...args], io);
  return { code, out, err };
}

beforeAll(async () => {
  const t = await tinySavedModel(root, 5);
  Object.assign(good, { st: t.st, model: t.model, arch: t.arch });
}, 120_000);

/** Every command of the program, subcommands named after their parent ('weights export'). */
function commands(c: Command, prefix = ''): { name: string; cmd: Command }[] {
  return c.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    return [{ name, cmd: sub }, ...commands(sub, `${name} `)];
  });
}

/** An option or argument whose name or description says it writes. */
const LOOKS_LIKE_A_WRITER = (flag: string, description: string) => /^--(out|emit|plot|save|output|write|dump|dest|export)\b/.test(flag) || /\b(writes?|written|saves?|saved|emits?)\b/i.test(description);

describe('every option that writes is declared in src/cli/writes.ts', () => {
  it('walks the program main.ts builds: each writer-looking option or argument is declared, and each declaration names a real option', async () => {
    const program = await buildProgram('all', { out: () => {}, err: () => {}, color: false }, () => {});
    const seen = new Set<string>();
    const undeclared: string[] = [];
    for (const { name, cmd } of commands(program)) {
      const entries = [
        ...cmd.options.map((o) => ({ flag: o.long ?? o.flags, description: o.description })),
        ...cmd.registeredArguments.map((a) => ({ flag: `<${a.name()}>`, description: a.description })),
      ];
      for (const { flag, description } of entries) {
        const key = `${name} ${flag}`;
        seen.add(key);
        const declared = WRITERS.some((w) => w.command === name && w.option === flag) || Object.hasOwn(NOT_WRITERS, key);
        if (flag === '--force') expect(WRITERS.some((w) => w.command === name && w.force === '--force') || Object.hasOwn(NOT_WRITERS, key), `${key}: a --force on a command that declares no writer`).toBe(true);
        else if (LOOKS_LIKE_A_WRITER(flag, description) && !declared) undeclared.push(`${key} (${description})`);
      }
    }
    expect(undeclared, 'options that look like writers: declare them in src/cli/writes.ts (WRITERS, or NOT_WRITERS with the reason)').toEqual([]);
    for (const w of WRITERS) expect(seen.has(`${w.command} ${w.option}`), `${w.command} ${w.option} is declared but the program has no such option`).toBe(true);
    for (const key of Object.keys(NOT_WRITERS)) expect(seen.has(key), `${key} is in NOT_WRITERS but the program has no such option`).toBe(true);
    // The walk found the writers issue 22 names.
    expect(new Set(WRITERS.map((w) => `${w.command} ${w.option}`))).toEqual(new Set(['export --out', 'infer --out', 'weights export --out', 'sweep --plot', 'sweep --emit', 'fold --out', 'weights import --out', 'train --out']));
  }, 60_000);
});

/** A fresh folder for one case: copies of the architecture, an MNIST architecture, the model and the state_dict. */
function caseFolder(tag: string): { dir: string; vars: Record<string, string> } {
  const dir = mkdtempSync(join(root, `${tag.replace(/\W+/g, '-')}-`));
  cpSync(good.arch, join(dir, 'tiny.yaml'));
  cpSync(join(repoRoot, 'architectures/mnist_resnet.yaml'), join(dir, 'mnist.yaml'));
  cpSync(good.model, join(dir, 'model'), { recursive: true });
  cpSync(good.st, join(dir, 'w.safetensors'));
  return { dir, vars: { $ARCH: join(dir, 'tiny.yaml'), $MNIST: join(dir, 'mnist.yaml'), $MODEL: join(dir, 'model'), $ST: join(dir, 'w.safetensors') } };
}

const fill = (s: string, vars: Record<string, string>) => s.replace(/\$[A-Z]+/g, (v) => vars[v] ?? v);
const argsOf = (w: Writer, vars: Record<string, string>, force = false) => [...w.args.map((a) => fill(a, vars)), ...(force && w.force ? [w.force] : [])];
const label = (w: Writer) => `${w.args.slice(0, w.args.indexOf(w.option) > 0 ? undefined : 4).filter((a) => !a.startsWith('$')).join(' ')}`;
const EXT: Record<string, string> = { onnx: '.onnx', 'torch-module': '.py', safetensors: '.safetensors', 'sweep-plot': '.svg' };

/**
 * Where a hostile thing goes for writer `w`: $OUT itself (a file writer), or the first file the
 * writer puts in its folder. Returns $OUT and that path.
 */
function targetOf(w: Writer, dir: string, file = 0): { out: string; at: string } {
  const t = w.target;
  if (t.what === 'file') {
    const out = join(dir, `out${EXT[t.kind] ?? ''}`);
    return { out, at: out };
  }
  const out = join(dir, 'outdir');
  mkdirSync(out, { recursive: true });
  const name = t.what === 'folder' ? t.files[file].name : t.what === 'model-folder' ? 'model.json' : '.skipgraph-run';
  return { out, at: join(out, name) };
}

const modeOf = (p: string) => statSync(p).mode & 0o777;
const noTrace = (r: { out: string; err: string }) => {
  expect(r.err + r.out).not.toMatch(STACK_FRAME);
  expect(r.err).not.toMatch(/internal error/);
};

describe.each(WRITERS.map((w) => [`${label(w)} ${w.option}`, w] as const))('%s', (_, w) => {
  const fileLike = w.target.what === 'file' || w.target.what === 'folder';
  const force = w.force !== undefined;

  it.skipIf(w.target.what === 'run-folder')("keeps a user's file (exit 1, the message says --force) and replaces its own earlier output without --force", async () => {
    const { dir, vars } = caseFolder(`${w.command}-user`);
    const { out, at } = targetOf(w, dir);
    writeFileSync(at, 'my own notes\n');
    const r = await run(argsOf(w, { ...vars, $OUT: out }));
    expect(r.code, r.err).toBe(1);
    if (w.target.what === 'model-folder') expect(r.err).toMatch(/already holds a model \(model\.json\); choose another folder, or add --force to replace it/);
    else expect(r.err).toMatch(force ? /exists and skipgraph did not write it; choose another name, or add --force to replace it/ : /skipgraph did not write it/);
    expect(readFileSync(at, 'utf8')).toBe('my own notes\n');
    noTrace(r);
    rmSync(w.target.what === 'model-folder' ? out : at, { recursive: true });
    const first = await run(argsOf(w, { ...vars, $OUT: out }));
    expect(first.code, first.err).toBe(0);
    if (!fileLike) return; // a model folder is replaced only with --force, skipgraph's or not
    const again = await run(argsOf(w, { ...vars, $OUT: out }));
    expect(again.code, `skipgraph's own ${at} was not recognised: ${again.err}`).toBe(0);
  }, 120_000);

  it.skipIf(!force)('replaces a 0600 file with --force and keeps its mode', async () => {
    const { dir, vars } = caseFolder(`${w.command}-mode`);
    const { out, at } = targetOf(w, dir);
    writeFileSync(at, 'secret\n', { mode: 0o600 });
    const r = await run(argsOf(w, { ...vars, $OUT: out }, true));
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(at).toString('latin1')).not.toBe('secret\n');
    expect(modeOf(at).toString(8)).toBe('600');
  }, 120_000);

  it("never writes over the command's own input, even with --force", async () => {
    const { dir, vars } = caseFolder(`${w.command}-input`);
    const input = fill(w.input, vars);
    const before = statSync(input).isFile() ? readFileSync(input) : undefined;
    let out: string;
    if (w.target.what === 'file' || statSync(input).isDirectory()) out = input; // --out names the input itself
    else {
      const t = targetOf(w, dir);
      out = t.out;
      if (w.target.what === 'run-folder') out = input; // a run folder named as the architecture file
      else linkSync(input, t.at); // another name for the input (a hard link) where the output goes
    }
    const r = await run(argsOf(w, { ...vars, $OUT: out }, true));
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(w.target.what === 'run-folder' ? /is a file; --out names a folder/ : /(never writes over its own input|is a file of the model being read)/);
    if (before !== undefined) expect(readFileSync(input).equals(before)).toBe(true);
    noTrace(r);
  }, 120_000);

  it('never writes through or replaces a link to a file outside, nor a dangling link, even with --force', async () => {
    const { dir, vars } = caseFolder(`${w.command}-link`);
    const outside = join(dir, '..', `outside-${dir.split('-').pop()}.txt`);
    writeFileSync(outside, 'outside\n');
    const { out, at } = targetOf(w, dir);
    symlinkSync(outside, at);
    const r = await run(argsOf(w, { ...vars, $OUT: out }, true));
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/symbolic link/);
    expect(readFileSync(outside, 'utf8')).toBe('outside\n');
    expect(lstatSync(at).isSymbolicLink()).toBe(true);
    noTrace(r);
    rmSync(at);
    const nowhere = join(dir, 'nowhere.txt');
    symlinkSync(nowhere, at);
    const d = await run(argsOf(w, { ...vars, $OUT: out }, true));
    expect(d.code, d.err).toBe(1);
    expect(d.err).toMatch(/symbolic link|no such file/);
    expect(existsSync(nowhere)).toBe(false);
  }, 120_000);

  it('refuses a device (/dev/null, or a device node where a file goes), even with --force', async () => {
    const { dir, vars } = caseFolder(`${w.command}-device`);
    const devnull = readFileSync('/dev/null');
    const r = await run(argsOf(w, { ...vars, $OUT: '/dev/null' }, true));
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/is a device/);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(devnull.length).toBe(0);
    noTrace(r);
    if (w.target.what === 'file' || process.getuid?.() !== 0) return;
    const { out, at } = targetOf(w, dir);
    execFileSync('mknod', [at, 'c', '1', '3']); // as /dev/null
    const inside = await run(argsOf(w, { ...vars, $OUT: out }, true));
    expect(inside.code, inside.err).toBe(1);
    expect(inside.err).toMatch(/a device/);
    expect(lstatSync(at).isCharacterDevice()).toBe(true);
  }, 120_000);

  it.skipIf(w.target.what !== 'run-folder' && !(w.target.what === 'folder' && w.target.run))("refuses the other engine's run folder, marked or known by its files", async () => {
    const engine = w.target.what === 'run-folder' || w.target.what === 'folder' ? w.target.run : undefined;
    const other = engine === 'tfjs' ? { mark: 'torch', file: 'checkpoint.pt', name: 'torch' } : { mark: 'tfjs', file: 'latest.json', name: 'TF.js' };
    const { dir, vars } = caseFolder(`${w.command}-engine`);
    const out = join(dir, 'run');
    mkdirSync(out);
    writeFileSync(join(out, other.file), 'x');
    const r = await run(argsOf(w, { ...vars, $OUT: out }));
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(new RegExp(`holds a ${other.name} training run \\(${other.file.replace('.', '\\.')}\\); a .* run cannot write into it: choose another --out`));
    rmSync(join(out, other.file));
    writeFileSync(join(out, '.skipgraph-run'), `{"skipgraph-run":"${other.mark}"}\n`);
    const marked = await run(argsOf(w, { ...vars, $OUT: out }));
    expect(marked.code, marked.err).toBe(1);
    expect(marked.err).toMatch(/\.skipgraph-run\); a .* run cannot write into it/);
    noTrace(marked);
  }, 120_000);
});

describe('a FIFO where an output goes: refused at once, through the real CLI (a hang would be killed)', () => {
  beforeAll(async () => {
    await ensureDist();
  }, 300_000);

  it('every writer, a FIFO as $OUT or as the file it writes in its folder', async () => {
    for (const w of WRITERS) {
      const { dir, vars } = caseFolder(`${w.command}-fifo`);
      const { out, at } = targetOf(w, dir);
      const fifo = w.target.what === 'run-folder' ? out : at;
      rmSync(fifo, { recursive: true, force: true });
      execFileSync('mkfifo', [fifo]);
      const r = await runBin(argsOf(w, { ...vars, $OUT: out }, true), repoRoot, 60_000);
      expect(r.code, `${w.command} ${w.option}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/FIFO/);
      expect(statSync(fifo).isFIFO()).toBe(true);
    }
  }, 600_000);
});
