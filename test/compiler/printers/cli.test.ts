import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { root } from './helpers.js';

const run = runCli;
const arch = (n: string) => join(root, 'architectures', `${n}.yaml`);

describe('skipgraph compile --format svg | html | mermaid, --collapse stages', () => {
  it('prints an SVG, an HTML page and a Mermaid chart', async () => {
    const svg = await run('compile', arch('resnet18'), '--format', 'svg');
    expect(svg.code).toBe(0);
    expect(svg.out).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.out.match(/<g class="node[ "]/g)).toHaveLength(69);
    const html = await run('compile', arch('cifar_resnet20'), '-f', 'html');
    expect(html.code).toBe(0);
    expect(html.out).toMatch(/^<!doctype html>/);
    expect(html.out).toContain('<p class="description">ResNet-20 for CIFAR-10, option A shortcuts.</p>');
    expect(html.out.match(/<g class="node[ "]/g)).toHaveLength(73);
    const mermaid = await run('compile', arch('resnet18'), '--format', 'mermaid');
    expect(mermaid.code).toBe(0);
    expect(mermaid.out.split('\n')[0]).toBe('flowchart TB');
  });

  it('collapses stages with --collapse stages', async () => {
    const r = await run('compile', arch('resnet152'), '--format', 'svg', '--collapse', 'stages');
    expect(r.code).toBe(0);
    expect(r.out.match(/<g class="node[ "]/g)).toHaveLength(11);
  });

  it('keeps the table the default, and --explain on stderr for pictures', async () => {
    const t = await run('compile', arch('resnet18'));
    expect(t.out).toMatch(/^resnet18: input 224x224x3, 1000 classes/);
    const s = await run('compile', arch('resnet18'), '--format', 'mermaid', '--explain');
    expect(s.out).not.toContain('rule "projection"');
    expect(s.err).toContain('resnet18: 6 node(s) inserted in 3 block(s)');
  });

  it('rejects an unknown --collapse, and --collapse with a text format (exit 2)', async () => {
    const bad = await run('compile', arch('resnet18'), '--format', 'svg', '--collapse', 'blocks');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('Unknown --collapse "blocks". Choices: none, stages.');
    const text = await run('compile', arch('resnet18'), '--collapse', 'stages');
    expect(text.code).toBe(2);
    expect(text.err).toContain('--collapse works with --format svg, html, mermaid, not table.');
    const fmt = await run('compile', arch('resnet18'), '--format', 'png');
    expect(fmt.code).toBe(2);
    expect(fmt.err).toContain('Formats: table, json, dot, svg, html, mermaid.');
  });
});
