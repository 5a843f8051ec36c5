/**
 * Nothing from input runs (docs/reliability.md): a property over file names, model names and node
 * names drawn from every character class (control characters, CR, form feed, Unicode line
 * separators, quotes, backslashes, `# -*- coding: ... -*-` and `coding: utf-7` declarations, vim
 * modelines, emoji, lone surrogates, and payloads that try to open a statement). Python reads each
 * emitted module (one process for the whole batch): its top-level statements are exactly the
 * expected ones, its literals hold the input's text unchanged, it imports and builds, and a canary
 * the payloads would create never appears.
 */
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource, type CompiledGraph } from '../../../src/compiler/files.js';
import { emitTorch } from '../../../src/targets/torch/index.js';
import { archArb, runs, SEED, toYaml } from '../../property/arch.js';
import { emitCheck, expectModule } from './emit_check.js';
import { ROOT, torchPython } from './helpers.js';
import { requireClassifier } from '../../../src/compiler/index.js';

const python = torchPython();
const RUNS = runs(60);

/** Each of these would create ./CANARY if any of it ran as code. */
const CANARIES = [
  '\nimport os; os.system("touch CANARY")\n',
  // These end in `#`, so that the rest of a comment line would not spoil the statement.
  '\nopen("CANARY", "w")  #',
  '\rimport os; os.system("touch CANARY")  #',
  '\u2029open("CANARY", "w")  #',
  ' -*- coding: utf-7 -*- +AAo-open(+ACI-CANARY+ACI-, +ACI-w+ACI-)+AAo-+ACM-',
  '\rimport os; os.system("touch CANARY")',
  '\u2028open("CANARY", "w")',
  '\x0c\nopen("CANARY", "w")',
  '"; open("CANARY", "w"); "',
  "'; open('CANARY', 'w'); '",
  '"""\nopen("CANARY", "w")\n"""',
  '\\\nopen("CANARY", "w")',
  // No control character: a PEP 263 declaration makes Python decode the file as UTF-7, where +AAo- is a newline.
  ' -*- coding: utf-7 -*- +AAo-open(+ACI-CANARY+ACI-, +ACI-w+ACI-)+AAo-',
  'coding=utf_7 +AAo-open(+ACI-CANARY+ACI-, +ACI-w+ACI-)',
];

const PIECES = [
  '\n', '\r', '\r\n', '\f', '\v', '\t', '\0', '\x1b[31m', '\x1c', '\x1d', '\x1e', '\x7f', '\x85', '\u2028', '\u2029', '\ufeff',
  '"', "'", '\\', '"""', "'''", '#', ' ', ':', '=', '{', '}', '%s', '$(touch CANARY)',
  '# -*- coding: latin-1 -*-', 'coding:', 'vim: set ft=c:', 'ex:', '😀', 'é', 'Ω', '\ud800', '\udfff',
  'F', 'SKIPGRAPH', 'DropPath', 'drop_path', 'torch', 'nn', 'self', 'forward', '_modules', 'None', 'class', 'x', 'downsample', 'stride',
];

const hostile = fc.oneof(
  fc.array(fc.constantFrom(...PIECES, ...CANARIES), { minLength: 1, maxLength: 4 }).map((a) => a.join('')),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.constantFrom(...CANARIES),
);

/** A node-name segment: anything but the separator, and not `training` (refused: see names.test.ts). */
const segment = hostile.map((s) => s.replace(/\./g, '') || 'x').filter((s) => s !== 'training');

/** Small graphs: every helper class (option A shortcuts, drop_path), a Container, and random ones. */
function bases(): CompiledGraph[] {
  const own = [
    readFileSync(join(ROOT, 'architectures/cifar_resnet20.yaml'), 'utf8').replace('stages:', 'drop_path_rate: 0.2\nstages:').replace(/blocks: 3/g, 'blocks: 1'),
    `
name: wrapped
input: { height: 8, width: 8, channels: 2 }
classes: 3
stem:
  - { op: conv, filters: 4, kernel: 3, name: a.conv }
  - { op: bn, name: b.bn }
  - { op: relu, name: a.relu }
stages:
  - { block: bottleneck, channels: 4, blocks: 2, stride: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`,
  ];
  const random = fc.sample(archArb, { numRuns: 40, seed: SEED }).map(toYaml);
  const graphs: CompiledGraph[] = [];
  for (const text of [...own, ...random]) {
    const g = compileSource(text, { file: 'base.yaml' }).graph;
    if (g && g.totals.params < 50_000) graphs.push(g);
    if (graphs.length >= 8) break;
  }
  return graphs;
}

/** The graph with its name and its node names' segments replaced (one to one, so its structure stays). */
function renamed(g: CompiledGraph, name: string, pool: string[], pick: boolean[]): CompiledGraph {
  const segs = [...new Set(g.nodes.flatMap((n) => n.id.split('.')))];
  const map = new Map<string, string>();
  const used = new Set(segs);
  segs.forEach((s, k) => {
    if (!pick[k % pick.length]) return;
    let r = pool[k % pool.length];
    while (used.has(r)) r += `~${k}`;
    used.add(r);
    map.set(s, r);
  });
  const id = (i: string) =>
    i
      .split('.')
      .map((s) => map.get(s) ?? s)
      .join('.');
  const c = requireClassifier(g, 'this test');
  return { ...c, name, output: id(c.output), nodes: g.nodes.map((n) => ({ ...n, id: id(n.id), inputs: n.inputs.map(id) })) as CompiledGraph['nodes'] };
}

describe.skipIf(python === undefined)('torch emitter: input text never runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-quoting-'));
  afterAll(() => process.env.KEEP_QUOTING_DIR ? undefined : rmSync(dir, { recursive: true, force: true }));

  it(`${RUNS} modules with hostile file, model and node names: exactly the expected statements, the input's text in the literals, no canary (seed ${SEED})`, () => {
    const graphs = bases();
    const arb = fc.record({
      base: fc.nat({ max: graphs.length - 1 }),
      name: fc.oneof(hostile, fc.constant('')),
      source: hostile,
      pool: fc.array(segment, { minLength: 8, maxLength: 8 }),
      pick: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    });
    // A layer_scale is an nn.Parameter of its parent module, so its own name must be a plain
    // attribute name: the emitter refuses any other (TorchEmitError, exit 1), and that refusal is
    // the expected outcome for such a case (checked here), never a file.
    let refused = 0;
    const cases = fc.sample(arb, { numRuns: RUNS, seed: SEED }).flatMap((c, k) => {
      const graph = renamed(graphs[c.base], c.name, c.pool, c.pick);
      const path = join(dir, `m${k}.py`);
      const plainScale = graph.nodes.every((n) => n.op !== 'layer_scale' || /^[A-Za-z][A-Za-z0-9_]*$/.test(n.id.slice(n.id.lastIndexOf('.') + 1)));
      let text: string;
      try {
        text = emitTorch(graph, { version: 'test', source: c.source });
      } catch (e) {
        expect(plainScale, `m${k} was refused: ${(e as Error).message}`).toBe(false);
        expect((e as Error).message).toMatch(/^layer_scale '.*': its last name part must be a Python identifier/s);
        refused++;
        return [];
      }
      writeFileSync(path, text);
      return [{ id: `m${k}`, graph, source: c.source, path }];
    });
    expect(cases.length, `${refused} of ${RUNS} cases refused for their layer_scale names`).toBeGreaterThan(RUNS / 2);
    const results = emitCheck(python!, cases.map((c) => ({ id: c.id, path: c.path, run: true })), dir);
    expect(existsSync(join(dir, 'CANARY')), 'a canary fired: input ran as code').toBe(false);
    for (const c of cases) {
      try {
        expectModule(results.get(c.id), c.graph, c.source, 'test', true);
      } catch (e) {
        throw new Error(`${c.id} (name ${JSON.stringify(c.graph.name)}, source ${JSON.stringify(c.source)}): ${(e as Error).message}`);
      }
      // The header is the fixed text around the names: four comment lines, then the code.
      expect(readFileSync(c.path, 'utf8').split('\n').slice(0, 5).map((l) => l.slice(0, 2))).toEqual(['# ', '# ', '# ', '# ', '']);
    }
  }, 600_000);
});
