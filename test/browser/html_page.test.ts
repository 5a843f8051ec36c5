import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHtml, formatSvg } from '../../src/compiler/index.js';
import { shipped } from '../compiler/printers/helpers.js';
import { chromiumMissing, skipWithout } from '../helpers/require.js';

/**
 * `compile --format html` pages as a reader sees them in chromium: the Stages and Shortcut
 * panels show their whole lines (nothing cut off behind a scrollbar), and the page's header names
 * the MACs exactly as the SVG legend does. Without /usr/bin/chromium the suite skips, saying so.
 */
const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(skipWithout('test/browser/html_page', chromiumMissing(CHROMIUM)))('the HTML page in chromium', () => {
  let ctx: BrowserContext;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-html-'));
    mkdirSync(join(dir, 'pages'));
    ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await ctx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['resnet50', 'regnet_x_400mf']) {
    it(`${name}: the Stages and Shortcut panels are not clipped; one MACs style in the header and the legend`, async () => {
      const g = shipped(name);
      const file = join(dir, 'pages', `${name}.html`);
      writeFileSync(file, formatHtml(g));
      const page = await ctx.newPage();
      await page.goto(`file://${file}`);
      for (const sel of ['pre.stages', 'pre.explain']) {
        const [scroll, client] = await page.locator(sel).evaluate((e) => [e.scrollWidth, e.clientWidth]);
        expect(scroll, `${sel} is ${scroll} px wide in a ${client} px box`).toBeLessThanOrEqual(client);
      }
      const facts = (await page.locator('p.facts').textContent())!;
      const legend = /, ([\d.]+ [GM] MACs), /.exec(formatSvg(g))![1];
      expect(facts).toContain(`, ${legend};`);
      expect(legend).toMatch(name === 'resnet50' ? /^4\.09 G MACs$/ : /^\d{3}\.\d\d M MACs$/);
      await page.close();
    });
  }
});
