/**
 * Backbones on the torch target (issue 24): `extends: resnet50` with `head: none` and
 * `features: [layer1, layer2, layer3, layer4]` emits a module whose forward returns a list of the
 * four maps, in the file's order; torchvision's resnet50 state_dict without fc.* loads into it with
 * strict=True, and with every parameter and buffer randomised each feature equals torchvision's
 * create_feature_extractor output within 1e-5 of its scale, in eval and in train mode.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { torchPython } from './helpers.js';

const python = torchPython();
const CHECK = new URL('./backbone_check.py', import.meta.url).pathname;
const SIZE = 64;

interface Check {
  keys: number;
  type: string;
  modes: Record<'eval' | 'train', { count: number; features: { name: string; shape: number[]; want: number[]; diff: number | null; scale: number }[] }>;
}

function check(py: string, features: string[]): Check {
  const r = spawnSync(python!, [CHECK], { input: JSON.stringify({ py, model: 'resnet50', features, size: SIZE, seed: 0 }), encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`backbone_check.py failed: ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout) as Check;
}

describe.skipIf(python === undefined)('torch target: a ResNet-50 backbone against torchvision', () => {
  let dir: string;
  let py: string;
  let result: Check;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-backbone-'));
    // Out of order on purpose: the list follows the file, not the network.
    writeFileSync(join(dir, 'backbone.yaml'), `extends: resnet50\nname: resnet50_backbone\ninput: { height: ${SIZE}, width: ${SIZE}, channels: 3 }\nhead: none\nfeatures: [layer3, layer1, layer4, layer2]\n`);
    py = join(dir, 'backbone.py');
    const r = await runCli('export', join(dir, 'backbone.yaml'), '--target', 'torch', '--out', py);
    expect(r.code).toBe(0);
    // resnet50's 25,557,032 parameters and 53,120 buffers, less fc's 2,049,000.
    expect(r.err).toContain('resnet50_backbone as a PyTorch module (23,561,152 parameters and buffers)');
    result = check(py, ['layer3', 'layer1', 'layer4', 'layer2']);
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forward returns a list of the features in the file order; the header and SKIPGRAPH say so', () => {
    const text = readFileSync(py, 'utf8');
    expect(text).toContain('def forward(self, x: torch.Tensor) -> "list[torch.Tensor]":');
    expect(text).toContain('output: a list of 4 maps, layer3 [N, 1024, 4, 4], layer1 [N, 256, 16, 16], layer4 [N, 2048, 2, 2], layer2 [N, 512, 8, 8].');
    expect(text).toContain('"features": ["layer3", "layer1", "layer4", "layer2"]');
    expect(text).not.toMatch(/\bfc\b/);
    expect(result.type).toBe('list');
  });

  it("torchvision's state_dict without fc loads with strict=True, and every feature is torchvision's within 1e-5 of its scale, eval and train", () => {
    expect(result.keys).toBe(318); // resnet50's 320 entries less fc.weight and fc.bias
    const figures: string[] = [];
    for (const mode of ['eval', 'train'] as const) {
      const m = result.modes[mode];
      expect(m.count).toBe(4);
      expect(m.features.map((f) => f.name)).toEqual(['layer3', 'layer1', 'layer4', 'layer2']);
      for (const f of m.features) {
        expect(f.shape, `${mode} ${f.name}`).toEqual(f.want);
        expect(f.diff, `${mode} ${f.name}`).not.toBeNull();
        expect(f.diff!, `${mode} ${f.name}`).toBeLessThan(1e-5);
        figures.push(`${mode} ${f.name} ${f.diff!.toExponential(1)}`);
      }
    }
    process.stderr.write(`backbone vs torchvision (resnet50 at ${SIZE}): ${figures.join(', ')}\n`);
  });
});
