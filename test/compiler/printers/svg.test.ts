import { describe, expect, it } from 'vitest';
import { escapeXml, formatHtml, formatSvg } from '../../../src/compiler/index.js';
import { compiled, EVIL, hostile, shipped } from './helpers.js';

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/** Every tag in the text, without its attributes: what a parser would build elements from. */
const tags = (s: string) => [...s.matchAll(/<([A-Za-z!][\w:-]*)/g)].map((m) => m[1].toLowerCase());

describe('escapeXml', () => {
  it('escapes the five XML specials and drops characters XML cannot hold', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
    expect(escapeXml('x\u0000y\u001bz\ud800')).toBe('x\ufffdy\ufffdz\ufffd');
    expect(escapeXml('tab\tnew\nline \u{1F600}')).toBe('tab\tnew\nline \u{1F600}');
  });
});

describe('formatSvg', () => {
  const g = shipped('resnet18');
  const svg = formatSvg(g);

  it('draws one box a node, with name, op and shape, and marks the inserted projections', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(count(svg, /<g class="node[ "]/g)).toBe(g.nodes.length);
    const inserted = [...svg.matchAll(/<g class="node [^"]*\binserted\b[^"]*" data-id="([^"]+)"/g)].map((m) => m[1]);
    expect(inserted).toEqual(g.nodes.filter((n) => n.inserted).map((n) => n.id));
    expect(inserted).toHaveLength(6);
    const box = svg.match(/<g class="node op-conv inserted shortcut" data-id="layer3\.0\.downsample\.0".*?<\/g>/s)![0];
    expect(box).toContain('fill="#ffe08a"');
    expect(box).toContain('stroke-dasharray');
    expect(box).toContain('>+ layer3.0.downsample.0</text>');
    expect(box).toContain('>conv 1x1/2</text>');
    expect(box).toContain('>14x14x256</text>');
    expect(box).toMatch(/<title>layer3\.0\.downsample\.0\nop: conv 1x1\/2\noutput: 14x14x256\n[^<]*inserted by the projection rule: stride 2, channels 128 -&gt; 256/);
    // An ordinary node is neither yellow nor dashed.
    const plain = svg.match(/<g class="node op-conv" data-id="layer3\.0\.conv1".*?<\/g>/s)![0];
    expect(plain).not.toContain('#ffe08a');
    expect(plain).not.toContain('stroke-dasharray');
  });

  it('draws skip edges dashed and red, every edge with its shape', () => {
    const skips = g.graph.edges().filter((e) => g.graph.edge(e).skip);
    expect(count(svg, /<g class="edge skip"/g)).toBe(skips.length);
    expect(count(svg, /<g class="edge"/g)).toBe(g.graph.edgeCount() - skips.length);
    const skip = svg.match(/<g class="edge skip" data-from="layer1\.0\.relu2" data-to="layer1\.1\.add">.*?<\/g>/)![0];
    expect(skip).toContain('stroke-dasharray="6 4"');
    expect(skip).toContain('>56x56x64</text>');
    const main = svg.match(/<g class="edge" data-from="layer4\.1\.relu2" data-to="avgpool">.*?<\/g>/)![0];
    expect(main).not.toContain('stroke-dasharray');
    expect(main).toContain('>7x7x512</text>');
  });

  it('is deterministic and only uses SVG elements', () => {
    expect(formatSvg(g)).toBe(svg);
    expect(new Set(tags(svg))).toEqual(new Set(['svg', 'title', 'defs', 'marker', 'path', 'rect', 'g', 'text', 'line']));
  });

  it('collapses stages to one box each', () => {
    const big = shipped('resnet152');
    const small = formatSvg(big, { collapse: 'stages' });
    expect(count(small, /<g class="node[ "]/g)).toBe(11);
    expect(count(small, /<g class="node op-stage stage inserted"/g)).toBe(4);
    expect(small).toContain('>36 blocks, 362 nodes</text>');
    expect(small.length).toBeLessThan(20_000);
  });

  it('escapes every name from the graph: nothing becomes markup', () => {
    const evil = formatSvg(hostile(g));
    expect(evil).not.toContain('<script');
    expect(evil).not.toContain('<img');
    expect(evil).not.toContain('onerror="');
    expect(new Set(tags(evil))).toEqual(new Set(tags(svg)));
    expect(evil).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(evil).toContain(`data-id="conv1&quot;&#39;&gt;&lt;script&gt;`);
    expect(count(evil, /<g class="node[ "]/g)).toBe(g.nodes.length);
  });
});

describe('formatHtml', () => {
  const yaml = (description: string) => `name: tiny
description: ${JSON.stringify(description)}
input: { height: 32, width: 32, channels: 3 }
classes: 10
stem:
  - { op: conv, filters: 16, kernel: 3 }
stages:
  - { block: basic, channels: 32, blocks: 1, stride: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;

  it('is one self-contained page: the SVG, the table, the explanation, one script allowed by hash', () => {
    const g = compiled(yaml('A tiny net.'));
    const html = formatHtml(g, { description: 'A tiny net.' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(count(html, /<svg /g)).toBe(1);
    expect(count(html, /<g class="node[ "]/g)).toBe(g.nodes.length);
    expect(html).toContain('<pre class="summary">tiny: input 32x32x3, 10 classes');
    expect(html).toContain('Nodes:                13 (2 inserted by shortcut rules, marked +)');
    expect(html).toContain('rule &quot;projection&quot; because stride 2, channels 16 -&gt; 32');
    expect(html).toContain('<p class="description">A tiny net.</p>');
    expect(html).toContain('<pre class="stages">stage   blocks  output    inserted\nlayer1  1       16x16x32  +2 (projection: stride 2, channels 16 -&gt; 32)</pre>');
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(count(html, /<script>/g)).toBe(1);
    const csp = html.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)![1];
    expect(csp).toMatch(/^default-src &#39;none&#39;; .*script-src &#39;sha256-[A-Za-z0-9+/]+=*&#39;$/);
  });

  it('escapes the description and every name: no markup or script comes from the YAML', () => {
    const description = `</title></style></pre><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
    const g = compiled(yaml(description));
    const html = formatHtml(hostile(g), { description });
    expect(count(html, /<script/g)).toBe(1);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</title></style>');
    expect(html).toContain('<p class="description">&lt;/title&gt;&lt;/style&gt;&lt;/pre&gt;&lt;script&gt;');
    expect(html).toContain(`<title>net${escapeXml(EVIL)} - skipgraph</title>`);
  });
});
