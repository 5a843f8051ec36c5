import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const root = new URL('../../', import.meta.url).pathname;
const resnet18 = join(root, 'architectures/resnet18.yaml');

const run = runCli;

/** A file with a misspelt key on line 7. */
const misspelt = `# yaml-language-server: $schema=../schemas/architecture.schema.json
name: typo
input: { height: 32, width: 32, channels: 3 }
classes: 10
stem:
  - { op: conv, filters: 16, kernel: 3 }
  - { op: bn, epsilom: 1e-5 }
stages:
  - { block: basic, channels: 16, blocks: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;

describe('skipgraph compile', () => {
  it('prints the table with torchvision totals for resnet18', async () => {
    const r = await run('compile', resnet18);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Trainable params:\s+11,689,512/);
    expect(r.out).toMatch(/Non-trainable params:\s+9,600/);
    expect(r.out).toMatch(/MACs:\s+1,814,073,344/);
    expect(r.out).toMatch(/\+ layer2\.0\.downsample\.0\s+conv 1x1\/2\s+28x28x128\s+8,192\s+6,422,528\s+projection: stride 2, channels 64 -> 128/);
    expect(r.err).toBe('');
  });

  it('--format json has the documented shape', async () => {
    const r = await run('compile', resnet18, '--format', 'json');
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['name', 'input', 'output', 'totals', 'nodes']));
    expect(j.totals).toMatchObject({ trainableParams: 11_689_512, nonTrainableParams: 9_600, params: 11_699_112, macs: 1_814_073_344 });
    expect(j.output).toEqual({ node: 'fc', shape: [1000] });
    const ds = j.nodes.find((n: any) => n.id === 'layer2.0.downsample.0');
    expect(ds).toMatchObject({ op: 'conv', inputs: ['layer1.1.relu2'], shape: [28, 28, 128], params: 8192, macs: 6_422_528, inserted: { rule: 'projection', reason: 'stride 2, channels 64 -> 128' } });
    expect(ds.loc).toEqual({ file: expect.stringMatching(/resnet18\.yaml$/), line: 17, col: 5 });
    expect(j.nodes.find((n: any) => n.id === 'conv1').inserted).toBeNull();
  });

  it('--format dot draws inserted nodes filled and skip edges dashed', async () => {
    const r = await run('compile', resnet18, '--format', 'dot');
    expect(r.out.startsWith('digraph "resnet18" {')).toBe(true);
    expect(r.out).toMatch(/"layer2\.0\.downsample\.0" \[label="[^"]*", style=filled/);
    expect(r.out).toMatch(/"layer1\.0\.add" \[label="\+", shape=circle\]/);
    expect(r.out).toMatch(/"maxpool" -> "layer1\.0\.add" \[label="56x56x64", style=dashed/);
  });

  it('--explain lists every insertion with the YAML place of its block', async () => {
    const r = await run('compile', resnet18, '--explain');
    expect(r.out).toMatch(/resnet18: 6 node\(s\) inserted in 3 block\(s\)/);
    expect(r.out).toMatch(/block layer3\.0 \(\S*resnet18\.yaml:18:5\): rule "projection" because stride 2, channels 128 -> 256/);
    // The explanation alone: no table before it.
    expect(r.out.startsWith('resnet18: 6 node(s) inserted in 3 block(s)')).toBe(true);
    expect(r.out).not.toMatch(/Trainable params|MACs:/);
  });

  it('--set changes a value for sweeps', async () => {
    const r = await run('compile', resnet18, '--format', 'json', '--set', 'stages.2.blocks=6', '--set', 'input.height=64', '--set', 'input.width=64');
    const j = JSON.parse(r.out);
    expect(j.nodes.filter((n: any) => /^layer3\.\d+\.add$/.test(n.id))).toHaveLength(6);
    expect(j.input).toEqual({ height: 64, width: 64, channels: 3 });
  });

  it('a misspelt key on line 7: exit 1, file:7:col, the line, a caret and a suggestion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgraph-cli-'));
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, misspelt);
    for (const cmd of ['check', 'compile']) {
      const r = await run(cmd, file);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(`${file}:7:15: error[unknown-key]: Unknown key "epsilom" in stem[1].`);
      expect(r.err).toContain('  7 |   - { op: bn, epsilom: 1e-5 }');
      expect(r.err).toContain('    |               ^^^^^^^');
      expect(r.err).toContain('hint: Did you mean "epsilon"?');
      expect(r.err).toContain('1 error.');
    }
  });

  it('usage errors exit 2; --help and --version exit 0', async () => {
    expect((await run('compile')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('compile', resnet18, '--format', 'png')).code).toBe(2);
    expect((await run('compile', resnet18, '--max-blocks', 'many')).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/compile \[options\] <file>/);
    const v = await run('--version');
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('check validates every shipped file', async () => {
    const r = await run('check', resnet18, join(root, 'architectures/resnext50_32x4d.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/resnext50_32x4d\.yaml: ok \(resnext50_32x4d, 4 stages, \d+ nodes, 25,028,904 trainable params\)/);
  });
});

describe('skipgraph train: what it says before it trains', () => {
  it('train --help lists every backend --backend takes, webgpu included', async () => {
    const r = await run('train', '--help');
    expect(r.code).toBe(0);
    expect(r.out.replace(/\s+/g, ' ')).toMatch(/--backend <name> +force a backend: node-gpu, webgpu, node, wasm or cpu/);
  });

  it('a refused output folder is reported before (and instead of) the backend report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-out-'));
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await run('train', join(root, 'architectures/mnist_resnet.yaml'), '--out', file, '--epochs', '1', '--train-limit', '8', '--test-limit', '8', '--no-progress');
    expect(r.code).toBe(1);
    expect(r.err + r.out).toContain('not-a-folder');
    expect(r.out + r.err).not.toMatch(/backend: /);
  }, 60_000);
});

describe('the installed bin', () => {
  const bin = join(root, 'bin/skipgraph.js');
  const built = existsSync(join(root, 'dist/cli/main.js'));
  it.skipIf(!built)('runs as a process: exit codes and no stack trace on bad input', () => {
    const ok = spawnSync(process.execPath, [bin, 'compile', resnet18], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/Trainable params:\s+11,689,512/);
    const bad = spawnSync(process.execPath, [bin, 'compile', join(root, 'package.json')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/package\.json:1:1: error\[/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = spawnSync(process.execPath, [bin, 'compile'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });
  if (!built) console.log('skipped: the bin test needs dist/ (npm install builds it; or run npm run build)');
});
