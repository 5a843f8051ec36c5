/**
 * The conformance matrix: every op of the registry (OP_KINDS), every shortcut rule (the schema's
 * enum) and every built-in block kind (BUILTIN_BLOCKS, and user blocks) runs on every target with
 * the same weights and input, and the outputs must agree within 1e-5 of the reference's scale
 * (max |reference|). The reference is TF.js, whose folded inference model is compared too;
 * PyTorch is compared in eval mode, in train mode (batch statistics) and by the running
 * statistics one train-mode forward leaves; ONNX Runtime in eval mode, plain and with --fold.
 * Train mode is skipped only for graphs whose training forward is random (dropout or drop_path
 * above rate 0); every row has at least one case compared in train mode.
 *
 * A missing PyTorch, onnxruntime-node or TF.js wasm backend skips its part, saying why; under
 * SKIPGRAPH_REQUIRE_ALL=1 it fails instead (test/helpers/require.ts). The worst difference per
 * op and target is printed as a table at the end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource, OP_KINDS, type CompiledGraph, type ShortcutRule } from '../../src/compiler/index.js';
import { BUILTIN_BLOCKS } from '../../src/parser/index.js';
import { backendMissing, loadOnnxRuntime, skipTestWithout, skipWithout, torchMissing, torchPythonPath } from '../helpers/require.js';
import { randomInput, randomWeights } from '../targets/onnx/helpers.js';
import { BLOCK_CASES, OP_CASES, RULE_CASES, type Variant } from './cases.js';
import { runOnnx, runTfjs, runTorch, stochastic, torchJob, type Outputs, type Prepared } from './targets.js';

/** max |target - TF.js| / max |TF.js|. */
const TOLERANCE = 1e-5;
const BATCH = 2;

/** The shortcut rules the schema accepts: the registry of rules at run time (RULE_CASES is typed by the union). */
const SCHEMA_RULES = (JSON.parse(readFileSync('schemas/architecture.schema.json', 'utf8')) as { $defs: { shortcut: { enum: ShortcutRule[] } } }).$defs.shortcut.enum;

interface Row {
  label: string;
  variants: Variant[];
  /** Whether a compiled variant exercises what the row stands for (`blocks`: its stages' block kinds). */
  exercises(graph: CompiledGraph, blocks: string[]): boolean;
}

const ROWS: Row[] = [
  ...OP_KINDS.map((op): Row => ({ label: op, variants: OP_CASES[op], exercises: (g) => g.nodes.some((n) => n.op === op) })),
  ...SCHEMA_RULES.map(
    (rule): Row => ({
      label: `shortcut ${rule}`,
      variants: RULE_CASES[rule]?.variants ?? [],
      exercises: (g) => RULE_CASES[rule].shows(g),
    }),
  ),
  ...[...BUILTIN_BLOCKS, 'user' as const].map(
    (block): Row => ({
      label: `block ${block}`,
      variants: BLOCK_CASES[block] ?? [],
      exercises: (_g, blocks) => (block === 'user' ? blocks.some((b) => !(BUILTIN_BLOCKS as readonly string[]).includes(b)) : blocks.includes(block)),
    }),
  ),
];

const COLUMNS = ['tfjs --fold', 'torch eval', 'torch train', 'torch stats', 'onnx', 'onnx --fold'] as const;
type Column = (typeof COLUMNS)[number];
/** max |got - ref| / max |ref|; a size mismatch or a NaN is Infinity. */
function relDiff(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return diff === 0 ? 0 : diff / scale;
}

/** row label -> column -> worst relative difference. */
const results = new Map<string, Map<Column, number>>();
function record(row: string, column: Column, d: number): void {
  if (!results.has(row)) results.set(row, new Map());
  const r = results.get(row)!;
  r.set(column, Math.max(r.get(column) ?? 0, d));
}

const backendWhy = await backendMissing('wasm');
const torchWhy = torchMissing();
const ortLoaded = await loadOnnxRuntime();
const ortWhy = 'why' in ortLoaded ? ortLoaded.why : undefined;

describe.skipIf(skipWithout('conformance matrix', backendWhy))('conformance matrix: every op, shortcut rule and block kind on TF.js, PyTorch and ONNX Runtime', () => {
  /** Per row, its prepared variants and TF.js's outputs. */
  const cases = new Map<string, { p: Prepared; ref: Outputs; blocks: string[] }[]>();
  const failures: string[] = [];

  beforeAll(() => {
    let seed = 1;
    for (const row of ROWS) {
      const list: { p: Prepared; ref: Outputs; blocks: string[] }[] = [];
      for (const [i, v] of row.variants.entries()) {
        const r = compileSource(v.yaml, { file: `${row.label}.yaml` });
        const graph = r.graph;
        if (!graph) {
          failures.push(`${row.label} #${i} (${v.name}): ${r.diagnostics.map((d) => d.message).join('; ')}`);
          continue;
        }
        v.graph?.(graph);
        const weights = randomWeights(graph, seed);
        v.weights?.(weights, graph);
        const p: Prepared = { id: `${row.label} #${i}`, graph, weights, input: randomInput(graph, BATCH, seed + 7), train: !stochastic(graph) };
        seed += 10;
        list.push({ p, ref: runTfjs(p), blocks: r.ast?.stages.map((s) => s.block) ?? [] });
      }
      cases.set(row.label, list);
    }
  });

  afterAll(() => {
    const fmt = (d: number | undefined) => (d === undefined ? '-' : d.toExponential(1));
    const width = Math.max(...ROWS.map((r) => r.label.length));
    const lines = [`conformance matrix: worst |target - TF.js| / max |TF.js| (tolerance ${TOLERANCE}; '-' not run)`, `${''.padEnd(width)}  ${COLUMNS.map((c) => c.padStart(11)).join(' ')}`];
    for (const row of ROWS) lines.push(`${row.label.padEnd(width)}  ${COLUMNS.map((c) => fmt(results.get(row.label)?.get(c)).padStart(11)).join(' ')}`);
    process.stderr.write(`${lines.join('\n')}\n`);
  });

  it('has a case for every op of the registry, every shortcut rule of the schema and every block kind, and each case exercises it', () => {
    expect(failures).toEqual([]);
    expect(OP_KINDS.filter((op) => !(OP_CASES[op]?.length > 0)), 'ops without a case').toEqual([]);
    expect(SCHEMA_RULES.filter((rule) => !(RULE_CASES[rule]?.variants.length > 0)), 'shortcut rules without a case').toEqual([]);
    expect(Object.keys(RULE_CASES).sort(), 'RULE_CASES against the schema').toEqual([...SCHEMA_RULES].sort());
    expect(Object.keys(BLOCK_CASES).sort(), 'BLOCK_CASES against the parser').toEqual([...BUILTIN_BLOCKS, 'user'].sort());
    const idle = ROWS.flatMap((row) => (cases.get(row.label) ?? []).filter(({ p, blocks }) => !row.exercises(p.graph, blocks)).map(({ p }) => p.id));
    expect(idle, 'cases that do not hold what their row stands for').toEqual([]);
    // An output that is zero everywhere compares nothing (a relu after a saturated add, say).
    const flat = [...cases.values()].flat().flatMap(({ p, ref }) => [ref.eval, ...(ref.train ? [ref.train] : [])].filter((y) => y.every((v) => v === 0)).map(() => p.id));
    expect(flat, 'cases whose reference output is all zeros').toEqual([]);
    // Train mode is compared for most rows: a row that only ever runs in eval is a gap, named here.
    expect(ROWS.filter((row) => !(cases.get(row.label) ?? []).some(({ p }) => p.train)).map((r) => r.label), 'rows never compared in train mode').toEqual([]);
    expect(ROWS.filter((row) => row.variants.length === 0).map((r) => r.label), 'rows without a case').toEqual([]);
  });

  describe('PyTorch (the emitted module) equals TF.js: eval, train mode and running statistics', () => {
    let torch: Map<string, Outputs | { error: string }> | undefined;
    let dir: string | undefined;

    beforeAll(() => {
      if (torchWhy !== undefined) return;
      dir = mkdtempSync(join(tmpdir(), 'skipgraph-conformance-'));
      const jobs = [...cases.values()].flatMap((list) => list.map(({ p }) => torchJob(p, dir!)));
      torch = runTorch(torchPythonPath()!, jobs);
    }, 600_000);

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const row of ROWS) {
      it(row.label, (ctx) => {
        skipTestWithout(ctx, 'conformance matrix: PyTorch', torchWhy);
        for (const { p, ref } of cases.get(row.label) ?? []) {
          const got = torch!.get(p.id);
          if (got === undefined) throw new Error(`${p.id}: no result from runner.py`);
          if ('error' in got) throw new Error(`${p.id}: ${got.error}`);
          expect(got.eval.length, `${p.id}: output size`).toBe(ref.eval.length);
          record(row.label, 'torch eval', relDiff(got.eval, ref.eval));
          if (p.train) {
            expect(got.train!.length, `${p.id}: train output size`).toBe(ref.train!.length);
            record(row.label, 'torch train', relDiff(got.train!, ref.train!));
            expect([...got.stats!.keys()].sort(), `${p.id}: batch norms`).toEqual([...ref.stats!.keys()].sort());
            for (const [k, v] of ref.stats!) record(row.label, 'torch stats', relDiff(got.stats!.get(k)!, v));
          }
        }
        const r = results.get(row.label)!;
        for (const c of ['torch eval', 'torch train', 'torch stats'] as const) expect(r.get(c), `${row.label}: ${c}`).toBeLessThan(TOLERANCE);
      });
    }
  });

  describe('ONNX Runtime (the exported file) equals TF.js: plain and folded', () => {
    for (const row of ROWS) {
      it(row.label, async (ctx) => {
        skipTestWithout(ctx, 'conformance matrix: ONNX Runtime', ortWhy);
        if (!('module' in ortLoaded)) return;
        for (const { p, ref } of cases.get(row.label) ?? []) {
          for (const fold of [false, true]) {
            const got = await runOnnx(ortLoaded.module, p, fold);
            expect(got.length, `${p.id}: output size`).toBe(ref.eval.length);
            record(row.label, fold ? 'onnx --fold' : 'onnx', relDiff(got, ref.eval));
          }
        }
        const r = results.get(row.label)!;
        for (const c of ['onnx', 'onnx --fold'] as const) expect(r.get(c), `${row.label}: ${c}`).toBeLessThan(TOLERANCE);
      });
    }
  });

  describe('TF.js folded (conv + BN + relu in one kernel) equals TF.js', () => {
    for (const row of ROWS) {
      it(row.label, () => {
        for (const { ref } of cases.get(row.label) ?? []) record(row.label, 'tfjs --fold', relDiff(ref.folded!, ref.eval));
        expect(results.get(row.label)?.get('tfjs --fold'), `${row.label}: tfjs --fold`).toBeLessThan(TOLERANCE);
      });
    }
  });

  it('has a result for every op, shortcut rule and block kind on every target that ran', () => {
    const ran = COLUMNS.filter((c) => (c.startsWith('tfjs') ? true : c.startsWith('torch') ? torchWhy === undefined : ortWhy === undefined));
    const missing = ROWS.flatMap((row) => ran.filter((c) => results.get(row.label)?.get(c) === undefined).map((c) => `${row.label}: ${c}`));
    expect(missing).toEqual([]);
  });
});
