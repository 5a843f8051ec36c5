/**
 * docs/tutorial.md section 8 ("A ResNet-50 backbone for a feature pyramid"): the snippet saved
 * under its name, the ```sh export command run as written (through the CLI, in a scratch folder),
 * and the Python snippet run with torch beside the file it wrote: it loads torchvision's weights
 * with strict=True, feeds the maps to torchvision's FeaturePyramidNetwork and prints what the
 * ```text fence after it shows. (The features table is checked with the other snippets, in
 * tutorial.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/files.js';
import { runCli } from '../helpers/cli.js';
import { torchPython } from '../targets/torch/helpers.js';

const python = torchPython();
const md = readFileSync(new URL('../../docs/tutorial.md', import.meta.url), 'utf8');
const section = md.slice(md.indexOf('## 8. A ResNet-50 backbone for a feature pyramid'));
const fence = (info: string) => [...section.matchAll(new RegExp('```' + info + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

describe.skipIf(python === undefined)('docs/tutorial.md: a ResNet-50 backbone for a feature pyramid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-backbone-docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the export command writes backbone.py, and the FPN snippet prints the pyramid shown', async () => {
    const [yaml] = fence('yaml');
    const file = yaml.match(/^# ([\w.-]+\.yaml)\n/)![1];
    writeFileSync(join(dir, file), yaml);
    // The counts the prose gives are the compiler's.
    const g = compileSource(yaml, { file: join(dir, file) }).graph!;
    expect(section).toContain(`ResNet-50's less its \`fc\`: ${g.totals.trainableParams.toLocaleString('en-US')} trainable parameters`);
    const [sh] = fence('sh');
    const args = sh.trim().split(/\s+/);
    expect(args.slice(0, 2)).toEqual(['skipgraph', 'export']);
    // Run as written, its file names read in the scratch folder.
    const r0 = await runCli(...args.slice(1).map((a) => (/\.(ya?ml|py)$/.test(a) ? join(dir, a) : a)));
    expect(r0.code, r0.err).toBe(0);
    expect(readFileSync(join(dir, 'backbone.py'), 'utf8')).toMatch(/^SKIPGRAPH = \{"name": "resnet50_backbone", "input": \[3, 224, 224\], "features": \["layer1", "layer2", "layer3", "layer4"\]/m);
    const [py] = fence('python');
    const shown = section.match(/```python\n[\s\S]*?```\n\n```text\n([\s\S]*?)```/)![1];
    const r = spawnSync(python!, ['-c', py], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(shown);
  }, 400_000);
});
