import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHtml, formatSvg } from '../../src/compiler/index.js';
import { compiled, hostile, root, shipped } from '../compiler/printers/helpers.js';
import { chromiumMissing, skipWithout } from '../helpers/require.js';

/**
 * The SVG and HTML printers in a real headless browser (Debian's chromium, driven by
 * playwright-core): the page loads under its own Content-Security-Policy, every node is drawn,
 * inserted projections are marked, text fits its box, hostile names stay text. Screenshots go to
 * test-output/ (gitignored). Without /usr/bin/chromium the suite skips, saying so once.
 */
const CHROMIUM = '/usr/bin/chromium';

const out = join(root, 'test-output');
const YELLOW = 'rgb(255, 224, 138)';

describe.skipIf(skipWithout('test/browser', chromiumMissing(CHROMIUM)))('the graph in a real browser (chromium)', () => {
  let ctx: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'skipgraph-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Opens a file, collecting console errors and page errors (a CSP violation is a console error). */
  async function open(file: string, text: string): Promise<{ page: Page; errors: string[] }> {
    const path = join(out, file);
    writeFileSync(path, text);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`file://${path}`);
    return { page, errors };
  }

  it('the ResNet-50 page: every node drawn, projections marked, hover details, screenshot', async () => {
    const g = shipped('resnet50');
    const { page, errors } = await open('resnet50.html', formatHtml(g, { description: 'torchvision ResNet-50' }));
    expect(await page.locator('svg.skipgraph g.node').count()).toBe(g.nodes.length);
    const inserted = page.locator('svg.skipgraph g.node.inserted');
    expect(await inserted.count()).toBe(8);
    expect(await inserted.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual(g.nodes.filter((n) => n.inserted).map((n) => n.id));
    // Marked as seen: yellow fill, dashed border, '+' before the name; other nodes are not yellow.
    const fills = await page.locator('svg.skipgraph g.node > rect:first-of-type').evaluateAll((els) => els.map((e) => getComputedStyle(e).fill));
    expect(fills.filter((f) => f === YELLOW)).toHaveLength(8);
    expect(await inserted.first().locator('rect').first().evaluate((e) => getComputedStyle(e).strokeDasharray)).not.toBe('none');
    expect(await inserted.first().locator('text').first().textContent()).toBe('+ layer1.0.downsample.0');
    expect(await page.locator('svg.skipgraph g.edge.skip path').first().evaluate((e) => getComputedStyle(e).strokeDasharray)).not.toBe('none');

    // Every label fits inside its box with the browser's real font metrics.
    const overflow = await page.locator('svg.skipgraph g.node').evaluateAll((els) =>
      els.flatMap((el) => {
        const r = (el.querySelector('rect') as SVGGraphicsElement).getBBox();
        return [...el.querySelectorAll('text')]
          .map((t) => ({ t, b: (t as SVGGraphicsElement).getBBox() }))
          .filter(({ b }) => b.x < r.x - 0.5 || b.x + b.width > r.x + r.width + 0.5 || b.y < r.y - 0.5 || b.y + b.height > r.y + r.height + 0.5)
          .map(({ t }) => `${el.getAttribute('data-id')}: ${t.textContent}`);
      }),
    );
    expect(overflow).toEqual([]);

    await page.screenshot({ path: join(out, 'resnet50.png') });

    // Hovering a box shows its details in the side panel (the page's one script, allowed by hash).
    const details = page.locator('#details');
    await page.locator('g.node[data-id="layer2.0.downsample.0"]').hover();
    await expect.poll(() => details.textContent()).toContain('inserted by the projection rule: stride 2, channels 256 -> 512');
    expect(await details.textContent()).toMatch(/^layer2\.0\.downsample\.0\nop: conv 1x1\/2\noutput: 28x28x512/);
    expect(await page.locator('pre.summary').textContent()).toContain('Total params:         25,610,152');
    await page.screenshot({ path: join(out, 'resnet50-hover.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the standalone ResNet-18 SVG parses as SVG and shows 69 boxes, and ResNet-152 collapses to 11', async () => {
    const g = shipped('resnet18');
    const { page, errors } = await open('resnet18.svg', formatSvg(g));
    expect(await page.evaluate(() => document.documentElement.namespaceURI)).toBe('http://www.w3.org/2000/svg');
    expect(await page.locator('g.node').count()).toBe(69);
    expect(await page.locator('g.node.inserted').count()).toBe(6);
    expect(await page.locator('g.edge.skip').count()).toBe(g.graph.edges().filter((e) => g.graph.edge(e).skip).length);
    const c = await open('resnet152-stages.svg', formatSvg(shipped('resnet152'), { collapse: 'stages' }));
    expect(await c.page.locator('g.node').count()).toBe(11);
    expect(await c.page.locator('g.node.stage.inserted').count()).toBe(4);
    const size = await c.page.locator('svg').evaluate((e) => [Number(e.getAttribute('width')), Number(e.getAttribute('height'))]);
    expect(size[1]).toBeLessThan(1400); // 515 nodes, one screen tall
    await c.page.setViewportSize({ width: size[0], height: size[1] });
    await c.page.screenshot({ path: join(out, 'resnet152-stages.png') });
    expect([...errors, ...c.errors]).toEqual([]);
    await page.close();
    await c.page.close();
  });

  it('hostile names and descriptions stay text: no script runs, no element is injected', async () => {
    const description = `</title></style></pre><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
    const yaml = `name: tiny\ndescription: ${JSON.stringify(description)}\ninput: { height: 32, width: 32, channels: 3 }\nclasses: 10\nstem:\n  - { op: conv, filters: 16, kernel: 3 }\nstages:\n  - { block: basic, channels: 32, blocks: 1, stride: 2 }\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n`;
    const g = hostile(compiled(yaml));
    const { page, errors } = await open('hostile.html', formatHtml(g, { description }));
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('p.description').textContent()).toBe(description);
    expect(await page.locator('g.node').count()).toBe(g.nodes.length);
    expect(await page.locator('g.node').first().getAttribute('data-id')).toBe(g.nodes[0].id);
    expect(errors).toEqual([]);
    await page.close();
  });
});
