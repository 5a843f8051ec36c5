/**
 * Backbones on the command line (issue 24): `compile` prints the features after the nodes (and
 * JSON holds them); a backbone that keeps an inherited head is refused at `features` with the fix;
 * training refuses a backbone in one line; `export --target onnx` names one output per feature and
 * `infer` prints each map's shape and statistics instead of top-k classes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { loadOnnxRuntime, skipTestWithout } from '../helpers/require.js';

const BACKBONE = 'extends: resnet18\nname: r18_backbone\ninput: { height: 32, width: 32, channels: 3 }\nhead: none\nfeatures: [layer3, maxpool, layer1]\n';
const ortLoaded = await loadOnnxRuntime();

describe('backbones on the command line', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-backbone-cli-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compile prints each feature: name, node, channels, reduction and shape, in the file order', async () => {
    const r = await runCli('compile', file('bb.yaml', BACKBONE));
    expect(r.code).toBe(0);
    expect(r.out).toContain('r18_backbone: input 32x32x3, backbone, 3 feature maps');
    expect(r.out).toMatch(/Returns 3 feature maps, in this order:\n\s+feature\s+node\s+channels\s+reduction\s+shape\n\s+layer3\s+layer3\.1\.relu2\s+256\s+16\s+2x2x256\n\s+maxpool\s+maxpool\s+64\s+4\s+8x8x64\n\s+layer1\s+layer1\.1\.relu2\s+64\s+4\s+8x8x64\n/);
    // No layer4 and no fc: the graph stops at the last feature.
    expect(r.out).not.toMatch(/^\s+(layer4|fc)\b/m);
    const json = await runCli('compile', join(dir, 'bb.yaml'), '--format', 'json');
    expect(json.code).toBe(0);
    const g = JSON.parse(json.out);
    expect(g.kind).toBe('backbone');
    expect(g.features.map((f: { name: string; node: string; channels: number; reduction: number; shape: number[] }) => [f.name, f.node, f.channels, f.reduction, f.shape])).toEqual([
      ['layer3', 'layer3.1.relu2', 256, 16, [2, 2, 256]],
      ['maxpool', 'maxpool', 64, 4, [8, 8, 64]],
      ['layer1', 'layer1.1.relu2', 64, 4, [8, 8, 64]],
    ]);
  });

  it('an inherited head beside features is refused at features, saying where the head comes from and to write head: none', async () => {
    const text = BACKBONE.replace('head: none\n', '');
    const r = await runCli('compile', file('inherits.yaml', text));
    expect(r.code).toBe(1);
    expect(r.err).toContain('inherits.yaml:4:1: error[head-and-features]: A backbone (a file with "features") returns its feature maps and has no head, but this file inherits a head from');
    expect(r.err).toContain('hint: Write `head: none` to drop the inherited head.');
  });

  it('train refuses a backbone in one line (both engines), exit 1, nothing written', async () => {
    for (const engine of [[], ['--engine', 'torch']]) {
      const out = join(dir, `run${engine.length}`);
      const r = await runCli('train', join(dir, 'bb.yaml'), '--epochs', '1', '--out', out, ...engine);
      expect(r.code).toBe(1);
      expect(r.err.trim().split('\n')).toEqual([
        `error: ${join(dir, 'bb.yaml')} is a backbone (features: layer3, maxpool, layer1): it returns feature maps, not class scores, so train cannot use it. Compile a classifier for this (a head and classes instead of features), or use the backbone through compile, export or infer.`,
      ]);
    }
  });

  it('export --target onnx names one output per feature; infer prints each map with its statistics, and --out writes them by name', async (ctx) => {
    skipTestWithout(ctx, 'backbone infer', 'why' in ortLoaded ? ortLoaded.why : undefined);
    const onnx = join(dir, 'bb.onnx');
    const e = await runCli('export', join(dir, 'bb.yaml'), '--target', 'onnx', '--out', onnx);
    expect(e.code).toBe(0);
    expect(e.out).toContain('input "input" [batch, 3, 32, 32] (NCHW), outputs "layer3" [batch, 256, 2, 2], "maxpool" [batch, 64, 8, 8], "layer1" [batch, 64, 8, 8]');
    const r = await runCli('infer', onnx, '--batch', '2', '--runs', '1', '--out', join(dir, 'maps.safetensors'));
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').filter((l) => l.startsWith('output'));
    expect(lines.map((l) => l.replace(/: mean .*/, ''))).toEqual(['output "layer3" [2, 256, 2, 2]', 'output "maxpool" [2, 64, 8, 8]', 'output "layer1" [2, 64, 8, 8]']);
    for (const l of lines) expect(l).toMatch(/: mean \d+\.\d{4}, std \d+\.\d{4}, min \d+\.\d{4}, max \d+\.\d{4}$/);
    expect(r.out).not.toContain('class ');
    const { parseSafetensors } = await import('../../src/formats/safetensors.js');
    const { readFileSync } = await import('node:fs');
    const saved = parseSafetensors(readFileSync(join(dir, 'maps.safetensors')), 'maps');
    expect([...saved.header.tensors.keys()].sort()).toEqual(['layer1', 'layer3', 'maxpool']);
    expect(saved.header.tensors.get('layer3')!.shape).toEqual([2, 256, 2, 2]);
    expect(saved.float32('maxpool').length).toBe(2 * 64 * 8 * 8);
  });

  it('infer on a saved TF.js backbone (weights import) prints each output map, in order', async () => {
    const { compileFile } = await import('../../src/compiler/files.js');
    const { serializeSafetensors } = await import('../../src/formats/safetensors.js');
    const { randomWeights } = await import('../targets/onnx/helpers.js');
    const graph = compileFile(join(dir, 'bb.yaml')).graph!;
    writeFileSync(join(dir, 'bb.safetensors'), serializeSafetensors(randomWeights(graph, 5)));
    const imported = await runCli('weights', 'import', join(dir, 'bb.yaml'), '--from', join(dir, 'bb.safetensors'), '--out', join(dir, 'tfjs'), '--backend', 'wasm');
    expect(imported.code, imported.err).toBe(0);
    const r = await runCli('infer', join(dir, 'tfjs'), '--batch', '2', '--runs', '1', '--backend', 'wasm');
    expect(r.code, r.err).toBe(0);
    // TF.js names an output by its layer, the feature's node; the maps are NCHW as the input is.
    const lines = r.out.split('\n').filter((l) => l.startsWith('output'));
    expect(lines.map((l) => l.replace(/: mean .*/, ''))).toEqual(['output "layer3.1.relu2" [2, 256, 2, 2]', 'output "maxpool" [2, 64, 8, 8]', 'output "layer1.1.relu2" [2, 64, 8, 8]']);
    expect(r.out).not.toContain('class ');
  });
});
