import { describe, expect, it } from 'vitest';
import { escapeMermaid, formatMermaid } from '../../../src/compiler/index.js';
import { EVIL, hostile, shipped } from './helpers.js';

const nodeLines = (m: string) => m.split('\n').filter((l) => /^\s+n\d+(\[|\(\[)"/.test(l));
const edgeLines = (m: string) => m.split('\n').filter((l) => /^\s+n\d+ -(->|\.->)\|/.test(l));

describe('formatMermaid', () => {
  const g = shipped('resnet18');
  const m = formatMermaid(g);

  it('is a top-down flowchart: one node a graph node, edges with shapes, stages as subgraphs', () => {
    expect(m.split('\n')[0]).toBe('flowchart TB');
    expect(nodeLines(m)).toHaveLength(g.nodes.length);
    expect(edgeLines(m)).toHaveLength(g.graph.edgeCount());
    expect(m).toContain('n0["<b>input</b><br/>input<br/>224x224x3"]');
    expect(m).toContain('n1["<b>conv1</b><br/>conv 7x7/2<br/>112x112x64"]');
    expect(m).toContain('n0 -->|"224x224x3"| n1');
    expect(m.match(/^ {2}subgraph s\d+\["<b>layer\d<\/b>"\]$/gm)).toHaveLength(4);
    expect(m.match(/^ {2}end$/gm)).toHaveLength(4);
  });

  it('marks inserted projections with a class and skip edges dotted and red', () => {
    const ids = new Map(nodeLines(m).map((l) => [l.match(/"<b>([^<]+)<\/b><br/)![1], l.trim().match(/^n\d+/)![0]]));
    const inserted = m.match(/^ {2}class (\S+) inserted$/m)![1].split(',');
    expect(inserted).toEqual(g.nodes.filter((n) => n.inserted).map((n) => ids.get(`+ ${n.id}`)));
    expect(inserted).toHaveLength(6);
    const skips = edgeLines(m).filter((l) => l.includes('-.->'));
    expect(skips).toHaveLength(g.graph.edges().filter((e) => g.graph.edge(e).skip).length);
    expect(skips).toContain(`  ${ids.get('layer1.0.relu2')} -.->|"56x56x64"| ${ids.get('layer1.1.add')}`);
    // linkStyle indexes count edges in the order they are written.
    const styled = m.match(/^ {2}linkStyle (\S+) stroke:#c0392b/m)![1].split(',').map(Number);
    const all = edgeLines(m);
    expect(styled.map((i) => all[i])).toEqual(skips);
  });

  it('collapses stages into one node each', () => {
    const c = formatMermaid(shipped('resnet152'), { collapse: 'stages' });
    expect(nodeLines(c)).toHaveLength(11);
    expect(c).not.toContain('subgraph');
    expect(c).toContain('["<b>layer3</b><br/>36 blocks, 362 nodes<br/>28x28x512 -#62; 14x14x1024<br/>40,613,888 params<br/>+ projection: stride 2, channels 512 -#62; 1024"]');
    expect(edgeLines(c)).toHaveLength(10);
    expect(c.match(/^ {2}class (\S+) inserted$/m)![1].split(',')).toHaveLength(4);
  });

  it('escapes everything that could end a label, start an entity or become HTML', () => {
    expect(escapeMermaid('a"b<c>&#d\ne|f')).toBe('a#34;b#60;c#62;#38;#35;d e#124;f');
    const evil = formatMermaid(hostile(g));
    expect(evil).not.toMatch(/<(?!br\/>|b>|\/b>)/);
    expect(evil).not.toContain('onerror="');
    expect(nodeLines(evil)).toHaveLength(g.nodes.length);
    expect(evil).toContain(escapeMermaid(EVIL));
  });
});
