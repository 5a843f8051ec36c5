import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkPicture,
  compileSource,
  formatDot,
  formatHtml,
  formatMermaid,
  formatSvg,
  formatTable,
  layoutGraph,
  PICTURE_LIMITS,
  PictureTooLargeError,
  type CompiledGraph,
} from '../../../src/compiler/files.js';
import { runCli } from '../../helpers/cli.js';
import { compiled } from './helpers.js';

/** One stage of `blocks` basic blocks: about 7 nodes a block. */
const chain = (blocks: number) =>
  `name: chain\ninput: { height: 8, width: 8, channels: 3 }\nclasses: 10\nstem:\n  - { op: conv, filters: 8, kernel: 3 }\n  - { op: bn }\n  - { op: relu }\nstages:\n  - { block: basic, channels: 8, blocks: ${blocks} }\n  - { block: basic, channels: 16, blocks: 1, stride: 2 }\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n`;

/**
 * A graph with `n` nodes, made from a small compiled one by repeating one of its stage nodes
 * (the printers read nodes, stages and totals; compiling 130,000 nodes would take seconds).
 */
function widened(n: number): CompiledGraph {
  const g = compiled(chain(1));
  const model = g.nodes.find((x) => x.op === 'relu' && x.stage === 'layer1')!;
  const nodes = [...g.nodes];
  let prev = model.id;
  for (let i = 0; nodes.length < n; i++) {
    const id = `layer1.x${i}`;
    nodes.push({ ...model, id, inputs: [prev] });
    prev = id;
  }
  return { ...g, nodes, graph: g.graph };
}

describe('printers at scale', () => {
  const big = compiled(chain(100)); // 700+ nodes: over the full-picture limit
  const bigNodes = big.nodes.length;

  it('the table is printed for 130,000 nodes (a spread into Math.max overflowed the stack)', () => {
    const g = widened(130_000);
    const t = formatTable(g);
    expect(t.split('\n').filter((l) => l.includes('layer1.x')).length).toBe(130_000 - compiled(chain(1)).nodes.length);
    expect(t).toContain('layer1.x129000');
  });

  it('mermaid and collapsed svg/html draw 20,000 nodes in one stage, one box for the stage', () => {
    const g = widened(20_000);
    const m = formatMermaid(g, { collapse: 'stages' });
    expect(m).toContain('<b>layer1</b>');
    expect(m).toMatch(/1 block, \d+ nodes/);
    const svg = formatSvg(g, { collapse: 'stages' });
    expect(svg).toMatch(/>1 block, 19\d\d\d nodes<\/text>/);
    // Large graphs default to the collapsed picture.
    expect(formatSvg(g)).toBe(svg);
    expect(formatMermaid(g)).toBe(m);
    expect(formatHtml(g)).toContain('stages collapsed');
  });

  it('dot writes one edge a pair of nodes, skip edges dashed, without building the graphlib graph', () => {
    const g = compiled(chain(2));
    let built = false;
    const probe = Object.defineProperty({ ...g }, 'graph', { get: () => ((built = true), g.graph) }) as CompiledGraph;
    const dot = formatDot(probe);
    expect(built).toBe(false);
    expect(dot).toBe(formatDot(g));
    const edges = dot.split('\n').filter((l) => /^  "[^"]+" -> "/.test(l));
    expect(edges).toHaveLength(g.graph.edgeCount());
    expect(edges.filter((l) => l.includes('style=dashed'))).toHaveLength(g.graph.edges().filter((e) => g.graph.edge(e).skip).length);
  });

  it(`above ${PICTURE_LIMITS.maxNodes} nodes svg/html default to one box a stage`, () => {
    expect(bigNodes).toBeGreaterThan(PICTURE_LIMITS.maxNodes);
    const l = layoutGraph(big);
    expect(l.boxes.filter((b) => b.kind === 'stage').map((b) => b.id)).toEqual(['layer1', 'layer2']);
    expect(l.boxes).toHaveLength(big.nodes.filter((n) => n.stage === undefined).length + 2);
    expect(formatSvg(big)).toContain('>100 blocks, ');
  });

  it('an explicit collapse: none above the limit is refused with the limit named, at the first stage', () => {
    const d = checkPicture(big, 'none')!;
    expect(d.code).toBe('limit-exceeded');
    expect(d.message).toBe(`The graph has ${bigNodes.toLocaleString('en-US')} nodes; a picture of every node is drawn up to ${PICTURE_LIMITS.maxNodes} nodes.`);
    expect(d.hint).toMatch(/--collapse stages/);
    expect([d.loc.line, d.loc.col]).toEqual([9, 5]);
    expect(() => formatSvg(big, { collapse: 'none' })).toThrow(PictureTooLargeError);
    expect(() => formatHtml(big, { collapse: 'none' })).toThrow(/drawn up to 600 nodes/);
    expect(checkPicture(big)).toBeUndefined();
    expect(checkPicture(compiled(chain(2)), 'none')).toBeUndefined();
    // Mermaid is text, linear in the graph: written whole when asked.
    expect(formatMermaid(big, { collapse: 'none' })).toContain('subgraph');
  });

  it('the CLI refuses svg/html --collapse none above the limit: exit 1, located, no stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-scale-'));
    const file = join(dir, 'chain.yaml');
    writeFileSync(file, chain(100));
    for (const format of ['svg', 'html']) {
      const r = await runCli('compile', file, '--format', format, '--collapse', 'none');
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/chain\.yaml:9:5: error\[limit-exceeded\]: The graph has [\d,]+ nodes; a picture of every node is drawn up to 600 nodes\./);
      expect(r.err).toContain('hint: Draw one box a stage with --collapse stages');
      expect(r.err).not.toMatch(/\bat .*\.(js|ts):\d+/);
    }
    const auto = await runCli('compile', file, '--format', 'svg');
    expect(auto.code).toBe(0);
    expect(auto.out).toContain('>100 blocks, ');
  });

  it('a use expansion of 150,000 layers compiles (a spread into push() overflowed the stack)', () => {
    // d = 10,000 relus; e uses d 15 times; the stage's block uses e once: one list of 150,000.
    const blocks = [
      '  a:\n    post: none\n    layers:\n' + '      - { op: relu }\n'.repeat(10),
      '  b:\n    post: none\n    layers:\n' + '      - { op: use, block: a }\n'.repeat(10),
      '  c:\n    post: none\n    layers:\n' + '      - { op: use, block: b }\n'.repeat(10),
      '  d:\n    post: none\n    layers:\n' + '      - { op: use, block: c }\n'.repeat(10),
      '  e:\n    post: none\n    layers:\n' + '      - { op: use, block: d }\n'.repeat(15),
      '  f:\n    post: none\n    layers:\n      - { op: use, block: e }\n',
    ].join('');
    const yaml = `name: wide\ninput: { height: 2, width: 2, channels: 2 }\nclasses: 2\nstem:\n  - { op: conv, filters: 2, kernel: 1 }\nstages:\n  - { block: f, channels: 2, blocks: 1 }\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\nblocks:\n${blocks}`;
    const r = compileSource(yaml);
    expect(r.diagnostics).toEqual([]);
    expect(r.graph!.nodes.filter((n) => n.op === 'relu')).toHaveLength(150_000);
  }, 60_000);
});
