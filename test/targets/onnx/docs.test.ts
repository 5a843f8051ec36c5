/**
 * docs/onnx.md's snippets, run: the `skipgraph` lines of every ```sh fence (through the real
 * command line, files written to a temporary folder), the TypeScript API snippet, check.py (with
 * Debian's onnx), infer.mjs (with onnxruntime-node) and infer.py (with Python's onnxruntime,
 * which only PyPI has: without it that one skips, saying so). The browser snippet cannot run
 * here (onnxruntime-web is not a dependency): its input and output names are checked against an
 * export instead. The ```text CUDA install line is not run (it downloads from NuGet).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../../src/targets/onnx/index.js';
import { runCli } from '../../helpers/cli.js';
import { skipTestWithout } from '../../helpers/require.js';
import { checkerMissing, loadOrt, PYTHON } from './helpers.js';

const md = readFileSync('docs/onnx.md', 'utf8');
const fences = [...md.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2] }));
const named = (lang: string, first: string) => fences.find((f) => f.lang === lang && f.body.startsWith(first))!.body;
// Inside the repository, so that node resolves onnxruntime-node and tsx from its node_modules.
mkdirSync('test-output', { recursive: true });
const dir = mkdtempSync(resolve('test-output', 'onnx-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const local = (a: string) => (a.endsWith('.onnx') ? join(dir, basename(a)) : a);

async function exportCifar(): Promise<string> {
  const out = join(dir, 'cifar_resnet20.onnx');
  expect((await runCli('export', 'architectures/cifar_resnet20.yaml', '--target', 'onnx', '--out', out)).code).toBe(0);
  return out;
}

describe('docs/onnx.md', () => {
  it('every skipgraph command of the sh fences runs', async () => {
    const lines = fences.filter((f) => f.lang === 'sh').flatMap((f) => f.body.split('\n').filter((l) => l.startsWith('skipgraph ')));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const ort = await loadOrt();
    for (const line of lines) {
      const args = line.split(/\s+/).slice(1).map(local);
      if (args[0] === 'infer' && typeof ort === 'string') continue;
      const r = await runCli(...args);
      expect({ line, code: r.code, err: r.err }).toEqual({ line, code: 0, err: '' });
    }
  });

  it('the TypeScript snippet runs (imports pointed at the sources)', () => {
    const ts = named('ts', "import { compileFile }")
      .replace("'skipgraph/compiler'", `'${resolve('src/compiler/files.ts')}'`)
      .replace("'skipgraph/onnx'", `'${resolve('src/targets/onnx/index.ts')}'`)
      .replace("'architectures/", `'${resolve('architectures')}/`);
    const file = join(dir, 'api.ts');
    writeFileSync(file, `${ts}\nif (!(bytes.length > 1e6)) throw new Error('no model');\n`);
    const r = spawnSync('node', ['--import', 'tsx', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('check.py prints what the text says', async (ctx) => {
    const missing = checkerMissing();
    if (missing) return skipTestWithout(ctx, 'docs/onnx.md check.py', missing);
    const model = join(dir, 'resnet18.onnx');
    expect((await runCli('export', 'architectures/resnet18.yaml', '--target', 'onnx', '--out', model)).code).toBe(0);
    const file = join(dir, 'check.py');
    writeFileSync(file, named('python', '# check.py'));
    const r = spawnSync(PYTHON, [file, model], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const said = /`python3 check.py resnet18.onnx` prints `([^`]+)`/.exec(md)![1];
    expect(r.stdout.trim()).toBe(said);
  });

  it('infer.mjs prints 3x10 for the CIFAR net', async (ctx) => {
    const ort = await loadOrt();
    if (typeof ort === 'string') return skipTestWithout(ctx, 'docs/onnx.md infer.mjs', ort);
    const model = await exportCifar();
    const file = join(dir, 'infer.mjs');
    writeFileSync(file, named('js', '// infer.mjs'));
    const r = spawnSync('node', [file, model], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('3x10');
    expect(md).toContain('prints `3x10`');
  });

  it('infer.py (Python onnxruntime)', async (ctx) => {
    const has = spawnSync(PYTHON, ['-c', 'import onnxruntime, numpy'], { encoding: 'utf8' });
    if (has.status !== 0) {
      process.stderr.write(`docs/onnx.md infer.py skipped: ${PYTHON} has no onnxruntime (PyPI only)\n`);
      return ctx.skip();
    }
    const model = await exportCifar();
    const file = join(dir, 'infer.py');
    writeFileSync(file, named('python', '# infer.py'));
    const r = spawnSync(PYTHON, [file, model], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('(3, 10)');
  });

  it("the browser snippet's tensor names are the export's", async () => {
    const html = named('html', '<script');
    const m = decodeModel(readFileSync(await exportCifar()));
    expect(html).toContain(`run({ ${m.graph.input[0].name}: x })`);
    expect(html).toContain(`out.${m.graph.output[0].name}.dims`);
    expect(m.graph.input[0].type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value)).toEqual(['batch', 3, 32, 32]);
  });
});
