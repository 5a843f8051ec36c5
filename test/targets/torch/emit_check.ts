/**
 * Emitted modules as Python reads them (test/targets/torch/emit_check.py): one Python process for
 * a batch of files. Shared by the quoting, names and helpers tests of the torch emitter.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { blockLastBatchNorms } from '../../../src/compiler/analyses/block_last.js';
import { stateDictLayout } from '../../../src/compiler/analyses/state_dict.js';
import type { CompiledGraph } from '../../../src/compiler/index.js';
import { pyText } from '../../../src/targets/torch/quote.js';
import { HARNESS } from './helpers.js';

export const EMIT_CHECK = join(HARNESS, '..', 'emit_check.py');

export interface EmitCheckJob {
  id: string;
  path: string;
  /** Also import it and build the model (needs torch). */
  run: boolean;
}

export interface EmitCheck {
  id: string;
  ok: boolean;
  error?: string;
  ascii: boolean;
  coding: boolean;
  encoding: string;
  comments: string[];
  top: [string, string][];
  bound_twice: string[];
  imports_anywhere: number;
  class_bodies: boolean;
  SKIPGRAPH: { name: string; input: number[]; classes: number; source: string; version: string };
  ZERO_INIT_RESIDUAL: string[];
  model_doc: string;
  out_shape?: number[];
  param_modules?: string[];
  zeroed?: string[];
}

/** Runs every job in one Python process, in `cwd` (where a canary would write). */
export function emitCheck(python: string, jobs: EmitCheckJob[], cwd: string): Map<string, EmitCheck> {
  const r = spawnSync(python, [EMIT_CHECK], { input: JSON.stringify(jobs), cwd, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`emit_check.py failed (${r.status ?? r.error}): ${r.stderr.slice(-4000)}`);
  const out = new Map<string, EmitCheck>();
  for (const line of r.stdout.split('\n')) if (line.trim()) out.set((JSON.parse(line) as EmitCheck).id, JSON.parse(line) as EmitCheck);
  return out;
}

/** The four imports every emitted module opens with (python/skipgraph_torch_helpers.py). */
export const IMPORTS: [string, string][] = [
  ['from', 'typing: Optional'],
  ['import', 'torch'],
  ['import', 'torch.nn as nn'],
  ['import', 'torch.nn.functional as F'],
];

/**
 * What every emitted module must be, whatever its names: printable ASCII with no encoding
 * declaration; exactly the imports, SKIPGRAPH, classes, ZERO_INIT_RESIDUAL and build_model at top
 * level, each name bound once; the literals holding exactly the input's text; and, when run, the
 * graph's modules and block-ending batch norms.
 */
export function expectModule(res: EmitCheck | undefined, graph: CompiledGraph, source: string, version: string, run: boolean): void {
  expect(res, 'no result').toBeDefined();
  const r = res!;
  expect(r.error).toBeUndefined();
  expect(r.ok).toBe(true);
  expect(r.ascii, 'printable ASCII only').toBe(true);
  expect(r.coding, 'a PEP 263 declaration in the first two lines').toBe(false);
  expect(r.encoding).toBe('utf-8');
  expect(r.comments.every((c) => !/coding[:=]/.test(c))).toBe(true);
  expect(r.top.slice(0, 5)).toEqual([...IMPORTS, ['assign', 'SKIPGRAPH']]);
  expect(r.top.slice(-2)).toEqual([
    ['assign', 'ZERO_INIT_RESIDUAL'],
    ['def', 'build_model'],
  ]);
  const middle = r.top.slice(5, -2);
  expect(middle.length).toBeGreaterThan(0);
  for (const [kind] of middle) expect(kind).toBe('class');
  expect(r.bound_twice).toEqual([]);
  expect(r.imports_anywhere).toBe(IMPORTS.length);
  expect(r.class_bodies).toBe(true);
  expect(r.SKIPGRAPH).toEqual({ name: graph.name, input: [graph.input.channels, graph.input.height, graph.input.width], ...(graph.kind === 'classifier' ? { classes: graph.classes } : { features: graph.features.map((f) => f.name) }), source, version });
  expect(r.ZERO_INIT_RESIDUAL).toEqual(blockLastBatchNorms(graph));
  expect(r.model_doc).toBe(`${pyText(graph.name)}, compiled by skipgraph from ${pyText(source)}.`);
  if (!run) return;
  // The modules that hold state_dict entries, as the compiler's layout names them (a layer_scale's
  // key is its own id, held by its parent module).
  const withParams = new Set(stateDictLayout(graph).map((t) => (t.key.includes('.') ? t.key.slice(0, t.key.lastIndexOf('.')) : t.key)));
  expect(r.param_modules).toEqual([...withParams].sort(codeUnitOrder));
  expect(r.zeroed).toEqual([...blockLastBatchNorms(graph)].sort(codeUnitOrder));
  if (graph.kind !== 'classifier') return; // a backbone's list of maps: test/targets/torch/backbone.test.ts
  const out = graph.nodes.find((n) => n.id === graph.output)!.shape;
  expect(r.out_shape).toEqual(out.length === 3 ? [2, out[2], out[0], out[1]] : [2, ...out]);
}

/** Python's order for str (code points; equal to UTF-16 order outside the astral planes). */
export const codeUnitOrder = (a: string, b: string): number => {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
};
