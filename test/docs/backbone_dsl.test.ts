/**
 * docs/dsl.md "Backbones: `features`": the YAML snippet compiles to the backbone the section
 * describes, and its Python snippet (torchvision's create_feature_extractor over the same stages)
 * runs and is what the emitted module computes: the extractor's state_dict loads into the module
 * with strict=True and the four maps agree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/files.js';
import { emitTorch } from '../../src/targets/torch/index.js';
import { torchPython } from '../targets/torch/helpers.js';

const python = torchPython();
const md = readFileSync(new URL('../../docs/dsl.md', import.meta.url), 'utf8');
const section = md.slice(md.indexOf('## Backbones: `features`'), md.indexOf('## Sweeps'));
const fence = (info: string) => section.match(new RegExp('```' + info + '\\n([\\s\\S]*?)```'))![1];

describe('docs/dsl.md: backbones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-backbone-dsl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const compiled = () => compileSource(fence('yaml'), { file: join(dir, 'resnet50_backbone.yaml') });

  it('the YAML snippet is ResNet-50 without its head, returning layer1 .. layer4', () => {
    const r = compiled();
    expect(r.diagnostics).toEqual([]);
    const g = r.graph!;
    if (g.kind !== 'backbone') throw new Error('not a backbone');
    expect(g.features.map((f) => [f.name, f.channels, f.reduction])).toEqual([
      ['layer1', 256, 4],
      ['layer2', 512, 8],
      ['layer3', 1024, 16],
      ['layer4', 2048, 32],
    ]);
    // torchvision's resnet50: 25,557,032 trainable parameters, fc 2,049,000 of them.
    expect(g.totals.trainableParams).toBe(25_557_032 - 2_049_000);
    expect(g.nodes.some((n) => n.id === 'fc' || n.op === 'global_avg_pool')).toBe(false);
  });

  it.skipIf(python === undefined)("the Python snippet runs, and the emitted module computes torchvision's extractor", () => {
    const py = join(dir, 'emitted.py');
    writeFileSync(py, emitTorch(compiled().graph!, { version: 'docs', source: 'resnet50_backbone.yaml' }));
    const check = `${fence('python')}
import importlib.util
import torch
spec = importlib.util.spec_from_file_location("emitted", ${JSON.stringify(py)})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
ours = m.build_model().eval()
ours.load_state_dict(backbone.state_dict(), strict=True)
backbone.eval()
x = torch.randn(2, 3, 64, 64)
with torch.no_grad():
    got, want = ours(x), backbone(x)
assert list(want) == m.SKIPGRAPH["features"], list(want)
for g, w in zip(got, want.values()):
    assert g.shape == w.shape and torch.equal(g, w), (g.shape, w.shape)
print("ok")
`;
    const r = spawnSync(python!, ['-c', check], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  }, 400_000);
});
