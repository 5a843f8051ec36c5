/**
 * The training commands in docs/torch.md and README.md work: every `skipgraph train ...
 * --engine torch` line in a ```sh fence runs through the CLI with `--prepare` (compile, emit,
 * write the data and the script, no training) into a temporary --out; every flag of a line that
 * starts the script (`python3 skipgraph_train.py ...`, `torchrun ... skipgraph_train.py ...`) is
 * one the script's --help lists, and torchrun's own flags ones torchrun's --help lists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findPython, TRAIN_SCRIPT } from '../../../src/targets/torch/train.js';
import { runCli } from '../../helpers/cli.js';
import { skipWithout } from '../../helpers/require.js';

let python: string | undefined;
try {
  python = findPython().python;
} catch (e) {
  skipWithout("torch docs' script lines", (e as Error).message);
}

/** Shell lines in ```sh fences, continuations joined, comments dropped. */
function shellLines(file: string): string[] {
  const md = readFileSync(file, 'utf8');
  const lines: string[] = [];
  for (const m of md.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const joined = m[1].replace(/\\\n\s*/g, ' ');
    for (const l of joined.split('\n')) {
      const line = l.replace(/\s+#.*$/, '').trim();
      if (line) lines.push(line);
    }
  }
  return lines;
}

const DOCS = ['docs/torch.md', 'README.md'];
const all = DOCS.flatMap((f) => shellLines(f).map((line) => ({ file: f, line })));
const cliLines = all.filter((l) => /\bskipgraph train\b/.test(l.line) && l.line.includes('--engine torch'));
const scriptLines = all.filter((l) => l.line.includes('skipgraph_train.py'));
const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where a line says `imagefolder:PATH`, a folder of 10 classes (one 8x8 PNG each) written here stands in. */
const pictures = join(dir, 'pictures');
for (const split of ['train', 'val'])
  for (let c = 0; c < 10; c++) {
    mkdirSync(join(pictures, split, `class${c}`), { recursive: true });
    writeFileSync(join(pictures, split, `class${c}`, '0.png'), PNG.sync.write(new PNG({ width: 8, height: 8 })));
  }

const saved = process.env.SKIPGRAPH_PYTHON;
afterEach(() => {
  if (saved === undefined) delete process.env.SKIPGRAPH_PYTHON;
  else process.env.SKIPGRAPH_PYTHON = saved;
});

describe('training commands in docs/torch.md and README.md', () => {
  it('has the sections: one process, N processes, a GPU, several machines, and a README line', () => {
    const md = readFileSync('docs/torch.md', 'utf8');
    for (const h of ['### One process', '### N processes on one machine', '### A GPU', '### Several machines (torchrun)']) expect(md).toContain(`\n${h}\n`);
    expect(cliLines.map((l) => l.file)).toContain('README.md');
    expect(cliLines.length).toBeGreaterThanOrEqual(6);
    expect(scriptLines.length).toBeGreaterThanOrEqual(1);
  });

  it.each(cliLines.map((l, i) => [`${l.file}: ${l.line}`, l, i] as const))('%s runs (with --prepare)', async (_, { line }, i) => {
    const words = line.split(/\s+/);
    const env = words.filter((w) => /^[A-Z_]+=/.test(w));
    const args = words.slice(words.indexOf('train')).map((w) => (w.startsWith('imagefolder:') ? `imagefolder:${pictures}` : w));
    const at = args.indexOf('--out');
    if (at >= 0) args.splice(at, 2);
    for (const e of env) process.env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1);
    const out = join(dir, `run${i}`);
    const r = await runCli(...args, '--prepare', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const folder = args.some((w) => w.startsWith('imagefolder:'));
    expect(r.out).toContain(`skipgraph_train.py --model model.py --data ${folder ? `imagefolder:${pictures}` : 'data.safetensors'} --out .`);
    for (const f of ['model.py', ...(folder ? [] : ['data.safetensors']), 'skipgraph_train.py', 'skipgraph_train_loop.py', 'recipes.json']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it.skipIf(python === undefined)("every flag of the script's and torchrun's lines is one they take", () => {
    const help = (args: string[]) => {
      const r = spawnSync(python!, args, { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return new Set(r.stdout.match(/--[a-z][\w-]*/g));
    };
    const script = help([TRAIN_SCRIPT, '--help']);
    const torchrun = help(['-m', 'torch.distributed.run', '--help']);
    for (const { line } of scriptLines) {
      const words = line.split(/\s+/);
      const split = words.findIndex((w) => w.endsWith('skipgraph_train.py'));
      const own = words.slice(0, split).filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]);
      const theirs = words.slice(split + 1).filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]);
      if (words[0] === 'torchrun') for (const f of own) expect(torchrun.has(f), `torchrun ${f}`).toBe(true);
      for (const f of theirs) expect(script.has(f), `skipgraph_train.py ${f}`).toBe(true);
    }
  });
});
