/** The `compile` bench case: compileSource in process, warm, on shipped models and synthetic stacks. */
import { readFileSync } from 'node:fs';
import { compileSource } from '../src/compiler/files.js';
import { arch } from './common.js';
import type { BenchContext } from './harness.js';
import { f, spread, stats, type CompileRow } from './results.js';

function stackYaml(blocks: number): string {
  return [
    `name: stack${blocks}`,
    'input: { height: 8, width: 8, channels: 3 }',
    'classes: 10',
    'shortcut: projection',
    'stem:',
    '  - { op: conv, filters: 8, kernel: 3 }',
    '  - { op: bn }',
    '  - { op: relu }',
    'stages:',
    `  - { block: basic, channels: 8, blocks: ${blocks}, stride: 1 }`,
    'head:',
    '  - { op: global_avg_pool }',
    '  - { op: dense, units: $classes }',
    '',
  ].join('\n');
}

/**
 * Runs `once` (one compile, returning its node count) through a warm-up, then `reps` timed runs.
 * Warm-up: at least 3 compiles and 0.5 s (at most 50 compiles), so that V8 has optimised the hot
 * functions before timing; two compiles left resnet18 (timed first) slower than resnet152.
 */
export function timeWarm(once: () => number, reps: number): { ms: number[]; nodes: number } {
  const nodes = once();
  const start = performance.now();
  for (let n = 1; n < 50 && (n < 3 || performance.now() - start < 500); n++) once();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) ms.push(timeOnce(once));
  return { ms, nodes };
}

/** Milliseconds of one call. */
export function timeOnce(once: () => unknown): number {
  const t0 = performance.now();
  once();
  return performance.now() - t0;
}

function timeCompile(text: string, reps: number, file?: string): { ms: number[]; nodes: number } {
  return timeWarm(() => {
    const r = compileSource(text, file === undefined ? {} : { file });
    if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    return r.graph.nodes.length;
  }, reps);
}

export function benchCompile({ quick, log }: BenchContext): CompileRow[] {
  const rows: CompileRow[] = [];
  const named: [string, number][] = [['resnet18', 8], ['resnet50', 16], ['resnet152', 50]];
  for (const [name, blocks] of named) {
    const { ms, nodes } = timeCompile(readFileSync(arch(name), 'utf8'), quick ? 5 : 30, arch(name));
    const s = stats(ms);
    rows.push({ name, blocks, nodes, ms: s, msPerBlock: s.median / blocks });
    log(`compile ${name}: ${s.median.toFixed(2)} ms`);
  }
  for (const blocks of [10, 100, 1000, 10000]) {
    const reps = quick ? 3 : blocks >= 10000 ? 7 : blocks >= 1000 ? 15 : 30;
    const { ms, nodes } = timeCompile(stackYaml(blocks), reps);
    const s = stats(ms);
    rows.push({ name: `stack of ${blocks} basic blocks (8x8x3, 8 channels)`, blocks, nodes, ms: s, msPerBlock: s.median / blocks });
    log(`compile ${blocks} blocks: ${s.median.toFixed(1)} ms`);
  }
  return rows;
}

/** The case's lines in the targets table. */
export function compileTargets(rows: CompileRow[], verdict: (ok: boolean) => string): string[] {
  const r152 = rows.find((r) => r.name === 'resnet152')!;
  const s10k = rows.find((r) => r.blocks === 10000 && r.name.startsWith('stack'))!;
  return [
    `| compile resnet152 < 5 ms (in process, warm) | ${f(r152.ms.median)} ms | ${verdict(r152.ms.median < 5)} |`,
    `| compile 10,000 blocks < 1 s | ${f(s10k.ms.median / 1000, 3)} s | ${verdict(s10k.ms.median < 1000)} |`,
  ];
}

export function compileMarkdown(rows: CompileRow[]): string[] {
  const out = ['## 1. Compile speed (in process, warm)', '',
    '`compileSource` on the YAML text (parse, schema check, expansion, shape inference, counts,',
    'limits), after a warm-up of the same text (at least 3 compiles and 0.5 s, at most 50). Synthetic stacks: 8x8x3 input, a 3x3',
    'conv stem with 8 channels, one stage of N basic blocks with 8 channels.', '',
    '| architecture | blocks | nodes | ms, median (min .. max, n) | us per block |', '| --- | ---: | ---: | --- | ---: |'];
  for (const r of rows) out.push(`| ${r.name} | ${r.blocks} | ${r.nodes} | ${spread(r.ms)} | ${f(r.msPerBlock * 1000, 1)} |`);
  out.push('');
  return out;
}
