/**
 * `skipgraph export --target torch` refuses a node name PyTorch cannot hold, through the CLI: a
 * layer_scale is an nn.Parameter set as an attribute of its enclosing module (torchvision's
 * CNBlock.layer_scale), so its name's last part must be a Python attribute name; a module named
 * `training` would be replaced by train(). Each refusal is one line (the file, line and column of
 * the layer, the code, what to do), exit code 1, no stack trace, and nothing written; `train
 * --engine torch` refuses it before it makes its run folder.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { at } from '../../helpers/yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-layer-scale-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A one-stage network whose block ends with `layer` (a YAML flow mapping). */
const yaml = (layer: string) => `name: scaled
input: { height: 8, width: 8, channels: 3 }
classes: 4
stem:
  - { op: conv, filters: 8, kernel: 3 }
stages:
  - { block: scaled, name: layer1, channels: 8, blocks: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
blocks:
  scaled:
    layers:
      - { op: conv, name: conv, filters: $channels, kernel: 3 }
      ${layer}
`;

function write(name: string, text: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('export --target torch: node names PyTorch cannot hold are refused at their layer', () => {
  it.each([
    ['a digit first', 'scale.0', "layer_scale 'layer1.0.scale.0'"],
    ['a Python keyword', 'scale.lambda', "layer_scale 'layer1.0.scale.lambda'"],
    ["an attribute nn.Module has", 'scale.forward', "layer_scale 'layer1.0.scale.forward'"],
  ])('a layer_scale whose last name part has %s (%s): one located line, exit 1, no file', async (_why, name, what) => {
    const layer = `- { op: layer_scale, name: ${name} }`;
    const text = yaml(layer);
    const file = write(name.replace('.', '_'), text);
    const out = join(dir, `${name}.py`);
    const r = await runCli('export', file, '--target', 'torch', '--out', out);
    expect(r.code).toBe(1);
    const { line, col } = at(text, layer.slice(2)); // the layer's mapping
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `${file}:${line}:${col}: error[torch-name]: ${what}: its last name part must be a Python identifier that nn.Module does not use (it becomes an attribute holding an nn.Parameter); ` +
        'name the layer with a letter first, then letters, digits or "_" (torchvision\'s is layer_scale), not a Python keyword or an attribute nn.Module has',
    );
    expect(r.err).not.toMatch(/^\s+at |Traceback|internal error/m);
    expect(r.out).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('without --out the same refusal prints nothing on stdout', async () => {
    const file = write('stdout', yaml('- { op: layer_scale, name: scale.0 }'));
    const r = await runCli('export', file, '--target', 'torch');
    expect([r.code, r.out]).toEqual([1, '']);
    expect(r.err).toMatch(/^.*stdout\.yaml:\d+:\d+: error\[torch-name\]: layer_scale 'layer1\.0\.scale\.0'/);
  });

  it('a module named training is refused at its layer too (train() would replace it)', async () => {
    const layer = '- { op: relu, name: training }';
    const text = yaml(layer);
    const file = write('training', text);
    const out = join(dir, 'training.py');
    const r = await runCli('export', file, '--target', 'torch', '--out', out);
    const { line, col } = at(text, layer.slice(2)); // the layer's mapping
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toEqual([
      `${file}:${line}:${col}: error[torch-name]: the node name "layer1.0.training" cannot be a PyTorch module name: every nn.Module sets its own attribute "training" (train() and eval() do), so a child module of that name breaks them; rename it; rename the layer (or its stage)`,
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('train --engine torch refuses it the same way before it makes its run folder (was: "internal error", exit 70, a folder left)', async () => {
    const layer = '- { op: layer_scale, name: scale.0 }';
    const text = yaml(layer);
    const file = write('train', text);
    const out = join(dir, 'train-run');
    const r = await runCli('train', file, '--engine', 'torch', '--prepare', '--data', `imagefolder:${join(dir, 'images')}`, '--out', out);
    const { line, col } = at(text, layer.slice(2));
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`error: ${file}:${line}:${col}: error[torch-name]: layer_scale 'layer1.0.scale.0': its last name part`);
    expect(existsSync(out)).toBe(false);
  });

  it('a layer_scale named as an attribute is exported: an nn.Parameter under that name', async () => {
    const file = write('gamma', yaml('- { op: layer_scale, name: gamma }'));
    const out = join(dir, 'gamma.py');
    const r = await runCli('export', file, '--target', 'torch', '--out', out);
    expect(r.err).toMatch(/^wrote /);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/self\.gamma = nn\.Parameter\(torch\.full\(\(8, 1, 1\), 0\.000001\)\)/);
  });
});
