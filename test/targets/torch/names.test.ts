/**
 * Names in the emitted module: a model or block named after something the file defines or imports
 * (`F`, `SKIPGRAPH`, `DropPath`, `drop_path`, `torch`, `nn`, `build_model`, a keyword) gets a class
 * name of its own, and the file imports and builds; nodes named after nn.Module's own attributes
 * (`forward`, `eval`) or `self` are still modules; `training`, which nn.Module sets on itself, is refused. The reserved names come from the file
 * itself, read by src/targets/torch/python_source.ts, which is checked here against Python's own
 * tokenize and ast.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource, type CompiledGraph } from '../../../src/compiler/files.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { HELPERS_FILE } from '../../../src/targets/torch/helpers.js';
import { scanPython, topLevelStatements } from '../../../src/targets/torch/python_source.js';
import { PY_KEYWORDS, safeAttr } from '../../../src/targets/torch/quote.js';
import { emitCheck, expectModule } from './emit_check.js';
import { torchPython } from './helpers.js';

const python = torchPython();

/**
 * A small network whose model name and stem region name are given; the stem's nodes and the first
 * stage are named after nn.Module attributes (zero_init_residual must still find `eval.0.bn2`).
 */
const yaml = (name: string, region: string, extra = '') => `
name: "${name}"
input: { height: 8, width: 8, channels: 3 }
classes: 4
shortcut: zeropad
drop_path_rate: 0.1
${extra}
stem:
  - { op: conv, name: ${region}.forward, filters: 8, kernel: 3 }
  - { op: bn, name: ${region}.eval }
  - { op: relu, name: ${region}.self }
stages:
  - { block: basic, channels: 8, blocks: 2, stride: 1, name: eval }
  - { block: basic, channels: 16, blocks: 1, stride: 2 }
head:
  - { op: global_avg_pool, name: wrap.pool }
  - { op: dropout, rate: 0.1, name: mid }
  - { op: dense, units: $classes, name: wrap.forward }
`;

function compile(text: string): CompiledGraph {
  const r = compileSource(text, { file: 'names.yaml' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

/** [model name, stem region name] pairs: each a name the emitted file uses, or a keyword once capitalised. */
const CASES: [string, string][] = [
  ['F', 'F'],
  ['SKIPGRAPH', 'SKIPGRAPH'],
  ['DropPath', 'DropPath'],
  ['drop_path', 'Optional'],
  ['torch', 'Container'],
  ['nn', 'Subsample'],
  ['build_model', 'ChannelPad'],
  ['Optional', 'true'],
  ['true', 'none'],
  ['None', 'BasicBlock'],
  ['Container', 'F'],
  ['ZERO_INIT_RESIDUAL', 'isinstance'],
];

describe('torch emitter: names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-names-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("its keyword list holds Python's keywords and soft keywords", () => {
    const r = spawnSync('/usr/bin/python3', ['-c', 'import keyword, json; print(json.dumps(keyword.kwlist + getattr(keyword, "softkwlist", [])))'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const missing = (JSON.parse(r.stdout) as string[]).filter((k) => !PY_KEYWORDS.has(k));
    expect(missing).toEqual([]);
  });

  it("reads the helpers file and an emitted module as Python's tokenize and ast do", () => {
    const emitted = join(dir, 'cifar.py');
    writeFileSync(emitted, emitTorch(compile(readFileSync('architectures/cifar_resnet20.yaml', 'utf8').replace('drop_path_rate: 0', '')), { version: 'test', source: 'x.yaml' }));
    const script = `
import ast, io, json, sys, tokenize
out = []
for path in sys.argv[1:]:
    text = open(path).read()
    names, prev = set(), None
    for t in tokenize.generate_tokens(io.StringIO(text).readline):
        if t.type == tokenize.NAME and not (prev is not None and prev.type == tokenize.OP and prev.string == "."):
            names.add(t.string)
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            prev = t
    tops = []
    for n in ast.parse(text).body:
        bound = [n.name] if isinstance(n, (ast.ClassDef, ast.FunctionDef)) else [(a.asname or a.name).split(".")[0] for a in n.names] if isinstance(n, (ast.Import, ast.ImportFrom)) else [t.id for t in n.targets if isinstance(t, ast.Name)] if isinstance(n, ast.Assign) else []
        tops.append({"line": n.lineno - 1, "names": bound, "text": ast.get_source_segment(text, n)})
    out.append({"names": sorted(names), "tops": tops})
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, HELPERS_FILE, emitted], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const py = JSON.parse(r.stdout) as { names: string[]; tops: { line: number; names: string[]; text: string }[] }[];
    [HELPERS_FILE, emitted].forEach((file, k) => {
      const text = readFileSync(file, 'utf8');
      expect([...scanPython(text).names].sort(), file).toEqual(py[k].names);
      expect(
        topLevelStatements(text).map((s) => ({ line: s.line, names: s.names, text: s.text })),
        file,
      ).toEqual(py[k].tops);
    });
  });

  it.skipIf(python === undefined)("never writes self.NAME for a name nn.Module already has (it would find the method, not the child)", () => {
    const r = spawnSync(python!, ['-c', 'import json, torch; print(json.dumps(sorted(set(dir(torch.nn.Module())))))'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const attrs = JSON.parse(r.stdout) as string[];
    expect(attrs).toContain('forward');
    expect(attrs.filter(safeAttr)).toEqual([]);
  });

  it('refuses a node named training, which nn.Module sets on itself (train() and eval() would replace the module)', () => {
    const g = compile(yaml('net', 'stem').replace('stem.eval', 'stem.training'));
    expect(() => emitTorch(g, { version: 'test' })).toThrow('the node name "stem.training" cannot be a PyTorch module name: every nn.Module sets its own attribute "training" (train() and eval() do), so a child module of that name breaks them; rename it');
  });

  it.skipIf(python === undefined)('a model or block named after a name of the file gets a class name of its own; the module imports and builds', () => {
    const graphs = CASES.map(([name, region], k) => {
      const g = compile(yaml(name, region));
      const path = join(dir, `case${k}.py`);
      writeFileSync(path, emitTorch(g, { version: 'test', source: `${name}.yaml` }));
      return { id: `case${k}`, graph: g, path };
    });
    const results = emitCheck(python!, graphs.map((g) => ({ id: g.id, path: g.path, run: true })), dir);
    const classesOf = (id: string) => results.get(id)!.top.filter(([kind]) => kind === 'class').map(([, n]) => n);
    for (const g of graphs) {
      expectModule(results.get(g.id), g.graph, `${g.graph.name}.yaml`, 'test', true);
    }
    // The helpers (wrap.* is a Container: `mid` runs between its nodes) and the stem's own class, then the rest; the model last.
    expect(classesOf('case0')).toEqual(['Subsample', 'ChannelPad', 'DropPath', 'Container', 'FModule', 'BasicBlock', 'BasicBlock2', 'FNet']);
    expect(classesOf('case1').slice(-1)).toEqual(['SKIPGRAPHNet']);
    expect(classesOf('case2').filter((c) => c.startsWith('DropPath'))).toEqual(['DropPath', 'DropPathModule', 'DropPathNet']);
    expect(classesOf('case7')).toContain('TrueModule');
    expect(classesOf('case8').slice(-1)).toEqual(['TrueNet']);
    expect(classesOf('case3').slice(-1)).toEqual(['DropPathNet']); // drop_path: camel case DropPath, a helper's name
    // A block name that is a class of the file's own making is numbered, as two kinds of BasicBlock are.
    expect(classesOf('case9').slice(4)).toEqual(['BasicBlock', 'BasicBlock2', 'BasicBlock3', 'NoneNet']);
  }, 300_000);
});
