import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile, paretoFront, sweep, variants } from '../../src/compiler/files.js';
import { runCli } from '../helpers/cli.js';
import { chromiumMissing, skipWithout } from '../helpers/require.js';

const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('skipgraph sweep', () => {
  it('a grid is the cartesian product; each row equals compiling that variant alone; limits reject', async () => {
    const r = await runCli('sweep', 'architectures/resnet50.yaml', '--grid', 'stages.2.blocks=2,6', '--grid', 'stages.3.channels=256,512', '--max-macs', '4G', '-f', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { settings: Record<string, string>; status: string; reason?: string; params: number; macs: number; flops: number; activations: number }[];
    expect(rows.map((x) => [x.settings['stages.2.blocks'], x.settings['stages.3.channels']])).toEqual([
      ['2', '256'],
      ['2', '512'],
      ['6', '256'],
      ['6', '512'],
    ]);
    for (const row of rows) {
      const g = compileFile('architectures/resnet50.yaml', { sets: Object.entries(row.settings).map(([p, v]) => `${p}=${v}`) }).graph!;
      expect(row.params).toBe(g.totals.trainableParams);
      expect(row.macs).toBe(g.totals.macs);
      expect(row.flops).toBe(2 * g.totals.macs);
      expect(row.status).toBe(g.totals.macs > 4e9 ? 'rejected' : 'ok');
    }
    // torchvision's ResNet-50 itself (6 blocks, 512 channels): 4.09G MACs, over the limit.
    expect(rows[3]).toMatchObject({ params: 25_557_032, macs: 4_089_184_256, status: 'rejected', reason: 'MACs 4.09G > 4G' });
    expect(r.err).toMatch(/^4 variants in [\d.]+ s: 3 kept, 1 rejected by limits, 0 failed$/m);
  });

  it('a bad variant is a row with its error and settings, and the sweep goes on', async () => {
    const r = await runCli('sweep', 'architectures/resnet18.yaml', '--grid', 'shortcut=projection,identity,zeropad', '-f', 'csv');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('shortcut,status,params,macs,flops,activations,reason');
    expect(lines.length).toBe(4);
    expect(lines[1]).toMatch(/^projection,ok,11689512,1814073344,/);
    expect(lines[2]).toMatch(/^identity,error,,,,,"?shortcut-mismatch: Block layer2\.0 adds its main path/);
    expect(lines[3]).toMatch(/^zeropad,ok,/);
    expect(r.err).toMatch(/3 variants in [\d.]+ s: 2 kept, 0 rejected by limits, 1 failed/);
  });

  it('--sample draws the same variants for the same seed, within the ranges, and other ones for another seed', () => {
    const axes = [
      { path: 'stages.2.blocks', range: [2, 8] as [number, number], integer: true },
      { path: 'stages.3.channels', values: ['256', '384', '512'] },
    ];
    const a = variants({ axes, sample: 50, seed: 7 });
    const b = variants({ axes, sample: 50, seed: 7 });
    const c = variants({ axes, sample: 50, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    if ('error' in a) throw new Error(a.error);
    for (const v of a) {
      expect(Number(v['stages.2.blocks'])).toBeGreaterThanOrEqual(2);
      expect(Number(v['stages.2.blocks'])).toBeLessThanOrEqual(8);
      expect(['256', '384', '512']).toContain(v['stages.3.channels']);
    }
    expect(new Set(a.map((v) => v['stages.2.blocks'])).size).toBeGreaterThan(3);
  });

  it('--sample draws distinct variants, and no more than the axes hold (issue 25: duplicates were counted as kept)', async () => {
    const axes = [
      { path: 'stages.2.blocks', range: [2, 8] as [number, number], integer: true },
      { path: 'stages.3.channels', values: ['256', '384', '512'] },
    ];
    const key = (v: Record<string, string>) => `${v['stages.2.blocks']}/${v['stages.3.channels']}`;
    const some = variants({ axes, sample: 15, seed: 3 });
    if ('error' in some) throw new Error(some.error);
    expect(some).toHaveLength(15);
    expect(new Set(some.map(key)).size).toBe(15);
    const all = variants({ axes, sample: 50, seed: 3 });
    if ('error' in all) throw new Error(all.error);
    expect(all).toHaveLength(21); // 7 block counts x 3 widths
    expect(new Set(all.map(key)).size).toBe(21);
    const r = await runCli('sweep', 'architectures/resnet18.yaml', '--range', 'stages.0.blocks=1..3', '--sample', '20', '--format', 'csv');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1 + 3);
    expect(r.err).toMatch(/3 variants in [\d.]+ s: 3 kept/);
    expect(r.err).toContain('(--sample 20: the axes hold 3 distinct variants, each drawn once; a --grid lists them all)');
  });

  it('the Pareto front: no kept point beats a front point in both coordinates', () => {
    const rows = sweep('architectures/resnet50.yaml', { axes: [{ path: 'stages.2.blocks', values: ['2', '4', '6'] }, { path: 'stages.1.channels', values: ['64', '128', '192'] }] });
    if ('error' in rows) throw new Error(rows.error);
    const pts = rows.map((r) => ({ x: r.macs!, y: r.params! }));
    const front = paretoFront(pts, { x: 'min', y: 'max' });
    expect(front.size).toBeGreaterThan(0);
    pts.forEach((p, i) => {
      const dominated = pts.some((q, j) => j !== i && q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y));
      expect(front.has(i), `point ${i}`).toBe(!dominated);
    });
  });

  it('--emit writes kept variants that extend the base and compile to the same numbers', async () => {
    const dir = join(tmp, 'variants');
    const r = await runCli('sweep', 'architectures/resnet18.yaml', '--grid', 'stages.0.blocks=1,3', '--emit', dir, '-f', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { settings: Record<string, string>; params: number }[];
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['resnet18-0000.yaml', 'resnet18-0001.yaml']);
    const text = readFileSync(join(dir, files[1]), 'utf8');
    expect(text).toMatch(/^# skipgraph sweep variant: stages\.0\.blocks=3\nextends: .*architectures\/resnet18\.yaml\nstages:/);
    expect(r.err).toMatch(/emitted 2 variant files in .* compile them with --extends-root /);
    const g = compileFile(join(dir, files[1]), { extendsRoot: '/' }).graph!;
    expect(g.totals.trainableParams).toBe(rows[1].params);
  });

  it('--measure times a forward pass of each kept variant on the chosen backend, and the plot then shows the time', async () => {
    const plot = join(tmp, 'timed.svg');
    const r = await runCli('sweep', 'architectures/mnist_resnet.yaml', '--grid', 'stages.0.blocks=1,2', '--measure', '--backend', 'wasm', '--plot', plot, '-f', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { status: string; forwardMs: number }[];
    expect(rows.map((x) => x.status)).toEqual(['ok', 'ok']);
    for (const x of rows) expect(x.forwardMs).toBeGreaterThan(0);
    expect(r.err).toMatch(/measuring on wasm/);
    expect(readFileSync(plot, 'utf8')).toMatch(/forward time \(ms\)/);
  });

  it('usage errors: no axis, a range without --sample, a bad count', async () => {
    expect((await runCli('sweep', 'architectures/resnet18.yaml')).code).toBe(2);
    const range = await runCli('sweep', 'architectures/resnet18.yaml', '--range', 'stages.0.blocks=1..4');
    expect(range.code).toBe(2);
    expect(range.err).toMatch(/--range axes are sampled: add --sample N/);
    const count = await runCli('sweep', 'architectures/resnet18.yaml', '--grid', 'stages.0.blocks=1,2', '--max-macs', 'lots');
    expect(count.err).toMatch(/--max-macs needs a count such as 4.5G/);
    const missing = await runCli('sweep', 'architectures/nope.yaml', '--grid', 'stages.0.blocks=1,2');
    expect(missing.code).toBe(1);
    expect(missing.err).not.toMatch(/\n\s+at /);
  });

  describe.skipIf(skipWithout('sweep: the plot in chromium', chromiumMissing()))('the plot in a real browser (chromium)', () => {
    it('draws every kept variant, marks the front in red, and each point has its settings as a tooltip', async () => {
      const plot = join(tmp, 'p.svg');
      const r = await runCli('sweep', 'architectures/resnet50.yaml', '--grid', 'stages.2.blocks=2,4,6,8', '--grid', 'stages.3.channels=256,512', '--max-macs', '4.5G', '--plot', plot, '-f', 'json');
      expect(r.code).toBe(0);
      const rows = JSON.parse(r.out) as { status: string }[];
      const kept = rows.filter((x) => x.status === 'ok').length;
      const profile = mkdtempSync(join(tmpdir(), 'skipgraph-chromium-'));
      const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const page = await ctx.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`file://${plot}`);
        const points = await page.$$eval('circle.pt', (cs) => cs.map((c) => ({ front: c.classList.contains('front'), fill: getComputedStyle(c).fill, tip: c.querySelector('title')?.textContent ?? '', box: c.getBoundingClientRect().width })));
        expect(points.length).toBe(kept);
        expect(points.filter((p) => p.front).every((p) => p.fill === 'rgb(221, 51, 51)')).toBe(true);
        expect(points.some((p) => p.front)).toBe(true);
        expect(points.every((p) => /stages\.2\.blocks=\d, stages\.3\.channels=\d+\nMACs [\d.]+G, trainable params [\d.]+M/.test(p.tip))).toBe(true);
        expect(points.every((p) => p.box > 0)).toBe(true);
        expect(errors).toEqual([]);
        await page.screenshot({ path: join('test-output', 'sweep-plot.png') });
      } finally {
        await ctx.close();
        rmSync(profile, { recursive: true, force: true });
      }
    });
  });
});
