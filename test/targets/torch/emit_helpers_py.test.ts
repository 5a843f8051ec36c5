/**
 * python/skipgraph_torch_helpers.py, the Python every emitted module shares: shipped in the
 * package, compiled and linted as a real file, and pasted into the emitted modules exactly as
 * written (the emitter reads the file; it holds no copy of its own).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/files.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { HELPERS_FILE, helpers } from '../../../src/targets/torch/helpers.js';
import { ROOT } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const LINT = join(ROOT, 'test/targets/torch/emit_lint.py');

const lint = (...files: string[]) => {
  const r = spawnSync(PYTHON, [LINT, ...files], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { linter: string; problems: string[] };
};

describe('torch emitter: the helpers file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-helpers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is in python/, which the package ships', () => {
    expect(HELPERS_FILE).toBe(join(ROOT, 'python/skipgraph_torch_helpers.py'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('python');
  });

  it('compiles (py_compile) and lints clean', () => {
    const compiled = spawnSync(PYTHON, ['-c', 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)', HELPERS_FILE, join(dir, 'helpers.pyc')], { encoding: 'utf8' });
    expect(compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
    const r = lint(HELPERS_FILE);
    process.stderr.write(`helpers file linted with ${r.linter}\n`);
    expect(r.problems).toEqual([]);
  });

  it('the lint finds an undefined name and an unused import (it can fail)', () => {
    const bad = join(dir, 'bad.py');
    writeFileSync(bad, 'import os\nimport torch\n\n\nclass A(torch.nn.Module):\n    def forward(self, x):\n        return F.relu(x)\n');
    const r = lint(bad);
    expect(r.problems.join('\n')).toMatch(/undefined name '?F'?/);
    expect(r.problems.join('\n')).toMatch(/'os' imported but unused/);
  });

  it("an emitted module opens with the file's imports and holds its classes as written", () => {
    const source = readFileSync(HELPERS_FILE, 'utf8');
    const yaml = readFileSync(join(ROOT, 'architectures/cifar_resnet20.yaml'), 'utf8').replace('stages:', 'drop_path_rate: 0.1\nstages:');
    const py = emitTorch(compileSource(yaml, { file: 'c.yaml' }).graph!, { version: 'test' });
    const h = helpers();
    expect(py).toContain(`\n\n${h.imports}\n\nSKIPGRAPH = `);
    expect(h.imports).toBe('from typing import Optional\n\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F');
    for (const name of ['Subsample', 'ChannelPad', 'DropPath'] as const) {
      const text = h.classes.get(name)!;
      expect(source).toContain(text);
      expect(py).toContain(`\n\n\n${text}\n\n\n`);
    }
    expect(py).not.toContain('class Container(');
  });
});
