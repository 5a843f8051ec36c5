/**
 * Printers at scale (issue 19, items 4 and 5): every output format on one stage of N basic blocks
 * (default 10,000: about 70,000 nodes), collapsed and not. Not a test: it prints the figures
 * (median of 3 runs, wall and CPU milliseconds) for docs/reliability.md.
 *
 *   node --import tsx bench/printers_scale.ts [blocks]
 *
 * svg/html of every node are drawn up to PICTURE_LIMITS.maxNodes; above it they default to one
 * box a stage, and an explicit collapse 'none' is refused (that refusal is timed too).
 */
import { cpus, loadavg } from 'node:os';
import { checkPicture, compileSource, formatDot, formatHtml, formatJson, formatMermaid, formatSvg, formatTable, PICTURE_LIMITS, type CompiledGraph } from '../src/compiler/files.js';

const blocks = Number(process.argv[2] ?? 10_000);
const yaml = `name: chain\ninput: { height: 32, width: 32, channels: 3 }\nclasses: 10\nstem:\n  - { op: conv, filters: 16, kernel: 3 }\n  - { op: bn }\n  - { op: relu }\nstages:\n  - { block: basic, channels: 16, blocks: ${blocks} }\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n`;

function time<T>(f: () => T): { wall: number; cpu: number; out: T } {
  const c = process.cpuUsage();
  const t = performance.now();
  const out = f();
  const u = process.cpuUsage(c);
  return { wall: performance.now() - t, cpu: (u.user + u.system) / 1000, out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const compiled = time(() => compileSource(yaml, { limits: { maxBlocks: Math.max(20_000, blocks), maxActivationBytes: 2 ** 50 } }));
const g = compiled.out.graph as CompiledGraph;
if (!g) throw new Error(compiled.out.diagnostics.map((d) => d.message).join('; '));
console.log(`${blocks.toLocaleString('en-US')} basic blocks, ${g.nodes.length.toLocaleString('en-US')} nodes; compile ${compiled.wall.toFixed(0)} ms wall`);
console.log(`machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; full pictures drawn up to ${PICTURE_LIMITS.maxNodes} nodes`);

const formats: [string, () => string][] = [
  ['table', () => formatTable(g)],
  ['json', () => formatJson(g)],
  ['dot', () => formatDot(g)],
  ['mermaid (every node)', () => formatMermaid(g, { collapse: 'none' })],
  ['mermaid --collapse stages', () => formatMermaid(g, { collapse: 'stages' })],
  ['svg (default: collapsed)', () => formatSvg(g)],
  ['svg --collapse stages', () => formatSvg(g, { collapse: 'stages' })],
  ['html (default: collapsed)', () => formatHtml(g)],
  ['html --collapse stages', () => formatHtml(g, { collapse: 'stages' })],
  ['svg --collapse none (refused)', () => checkPicture(g, 'none')?.message ?? 'drawn'],
];
console.log('\n| format | wall ms | CPU ms | output |\n|---|---:|---:|---:|');
for (const [name, f] of formats) {
  const runs = [0, 1, 2].map(() => time(f));
  const size = runs[0].out.length;
  console.log(`| ${name} | ${median(runs.map((r) => r.wall)).toFixed(0)} | ${median(runs.map((r) => r.cpu)).toFixed(0)} | ${name.includes('refused') ? runs[0].out : `${(size / 1024).toFixed(0)} KiB`} |`);
}
