/**
 * docs/tutorial.md is kept true by this test. The convention:
 *
 * - Every ```yaml fence is a whole architecture file whose first line is `# <file>.yaml`, the
 *   name the reader saves it under; it is compiled through the public `compileSource` with that
 *   name as its file (so locations in the output read `step3-identity.yaml:9:5`).
 * - The next fence after each yaml fence holds what skipgraph prints for it, and its info string
 *   says which printer: ```text table is `formatTable` (what `skipgraph compile <file>` prints,
 *   without colour), ```text explain is `formatExplain` (the `--explain` part), and ```text error
 *   is what `skipgraph compile <file>` prints on stderr for a snippet that must fail to compile
 *   (the CLI's own printCompileProblems: diagnostics, the count line, the checks that waited).
 * - `npm run docs:images -- --tutorial` rewrites those output fences from the snippets.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSnippet, PICTURES, ROOT, snippetOutput, snippetPairs, tutorialSnippets, TUTORIAL } from '../../docs/images/generate.js';
import { compileFile } from '../../src/compiler/files.js';
import { ensureDist } from '../cli/bin.js';

const md = readFileSync(TUTORIAL, 'utf8');
const pairs = snippetPairs(md);

describe('docs/tutorial.md', () => {
  it('has a snippet for each step, each followed by its output', () => {
    expect(pairs.map((p) => `${p.snippet.file}: ${p.kind}`)).toEqual([
      'step1-plain.yaml: table',
      'step2-residual.yaml: table',
      'step3-identity.yaml: error',
      'step3-projection.yaml: explain',
      'step4-resnet18.yaml: table',
      'step7-mobilenet_v2.yaml: explain',
      'step8-backbone.yaml: features',
    ]);
    // Every yaml fence is one of them: none is left uncompiled.
    expect(md.match(/^```yaml$/gm)).toHaveLength(pairs.length);
  });

  it.each(pairs.map((p) => [`${p.snippet.file} (line ${p.snippet.line}) prints what the ${p.kind} block after it shows`, p] as const))('%s', (_, p) => {
    expect(p.output.body).toBe(snippetOutput(p.snippet, p.kind) + '\n');
  });

  it('step 4 is exactly the shipped ResNet-18', () => {
    const mine = compileSnippet(tutorialSnippets(md).find((s) => s.file === 'step4-resnet18.yaml')!).graph!;
    const shipped = compileFile(join(ROOT, 'architectures/resnet18.yaml')).graph!;
    const view = (g: typeof mine) => g.nodes.map((n) => [n.id, n.op, n.attrs, n.inputs, n.shape, n.params, n.macs, n.inserted?.reason]);
    expect(view(mine)).toEqual(view(shipped));
    expect(mine.totals).toEqual(shipped.totals);
    expect(mine.totals.trainableParams).toBe(11_689_512);
  });

  it('step 7 is exactly the shipped MobileNetV2, with torchvision\'s counts', () => {
    const mine = compileSnippet(tutorialSnippets(md).find((s) => s.file === 'step7-mobilenet_v2.yaml')!).graph!;
    const shipped = compileFile(join(ROOT, 'architectures/mobilenet_v2.yaml')).graph!;
    const view = (g: typeof mine) => g.nodes.map((n) => [n.id, n.op, n.attrs, n.inputs, n.shape, n.params, n.macs]);
    expect(view(mine)).toEqual(view(shipped));
    expect([mine.totals.trainableParams, mine.totals.macs]).toEqual([3_504_872, 300_774_272]);
    expect(md).toContain('3,504,872 trainable parameters and 300,774,272 MACs');
  });

  it('the table of shapes at each stage agrees with the compiled ResNet-18', () => {
    const g = compileSnippet(tutorialSnippets(md).find((s) => s.file === 'step4-resnet18.yaml')!).graph!;
    const rows = [...md.matchAll(/^\| (layer\d) \| (\d+) \| (\S+) \| (.+) \|$/gm)].map((m) => ({ name: m[1], blocks: Number(m[2]), shape: m[3], inserted: !m[4].startsWith('nothing') }));
    expect(rows.map(({ name, blocks, shape }) => ({ name, blocks, shape }))).toEqual(g.stages.map((s) => ({ name: s.name, blocks: s.blocks, shape: s.shape.join('x') })));
    expect(rows.map((r) => r.inserted)).toEqual(g.stages.map((s) => g.nodes.some((n) => n.stage === s.name && n.inserted)));
  });

  it('shows pictures that docs:images makes, and they exist', () => {
    const shown = [...md.matchAll(/\]\(images\/([^)]+\.svg)\)/g)].map((m) => m[1]);
    expect(shown.length).toBeGreaterThanOrEqual(5);
    const made = new Set(PICTURES.map((p) => p.out));
    for (const s of shown) {
      expect(made.has(s), `${s} is made by docs/images/generate.ts`).toBe(true);
      expect(() => readFileSync(join(ROOT, 'docs/images', s))).not.toThrow();
    }
  });

  it('the training script runs as a user runs it (the package built, imported by name) and its loss falls', async () => {
    const sample = md.match(/```ts\n([\s\S]*?)```/)![1];
    expect(sample).toContain("from 'skipgraph/runtime';");
    expect(sample).toContain("compileFile('step4-resnet18.yaml'");
    expect(sample).not.toMatch(/loss: 'categoricalCrossentropy'/); // softmax-less logits need logitsCrossEntropy
    expect(sample).toContain('loss: logitsCrossEntropy');
    expect(md).not.toMatch(/still being written/);
    await ensureDist();
    const dir = mkdtempSync(join(tmpdir(), 'sg-tutorial-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules')); // node_modules/skipgraph is the package itself
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'step4-resnet18.yaml'), tutorialSnippets(md).find((s) => s.file === 'step4-resnet18.yaml')!.yaml);
    writeFileSync(join(dir, 'train.ts'), sample);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'train.ts'], { cwd: dir, encoding: 'utf8', env: { ...process.env, SKIPGRAPH_BACKEND: 'wasm' }, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend: wasm/m);
    const losses = [...r.stdout.matchAll(/^step \d: loss (\d+\.\d+), accuracy [\d.]+%$/gm)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(4);
    expect(losses[0]).toBeGreaterThan(1.8); // near ln 10 at the start
    expect(losses[0]).toBeLessThan(3);
    expect(losses[3]).toBeLessThan(losses[0] / 2);
  }, 300_000);
});

describe('the snippet convention', () => {
  const yaml = '```yaml\n# a.yaml\nname: a\n```\n';
  it('rejects a yaml fence without its file name, and one not followed by an output fence', () => {
    expect(() => snippetPairs('```yaml\nname: a\n```\n```text table\n```\n')).toThrow('must start with "# <file>.yaml"');
    expect(() => snippetPairs(`${yaml}\n\`\`\`ts\nx\n\`\`\`\n`)).toThrow('must be ```text table, ```text explain, ```text error or ```text features');
    expect(() => snippetPairs(yaml)).toThrow('must be ```text table');
  });
  it('fails a snippet marked as an error that compiles, and a broken one marked as a table', () => {
    const [ok] = pairs;
    expect(() => snippetOutput(ok.snippet, 'error')).toThrow('compiles, but its output block says "text error"');
    expect(() => snippetOutput({ ...ok.snippet, yaml: ok.snippet.yaml.replace('classes: 10', 'classes: ten') }, 'table')).toThrow('does not compile');
  });
});
