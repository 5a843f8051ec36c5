import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { random } from '../../../src/random/index.js';
import { ensureDist } from '../../cli/bin.js';

/** CIFAR-10 binary records (label byte, red, green, blue planes) whose class sets the colour of a centre square, on noise. */
function cifarRecords(count: number, seed: number): Buffer {
  const rng = random(seed);
  const b = Buffer.alloc(count * 3073);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    b[i * 3073] = label;
    const colour = [(label * 83) % 256, (label * 157) % 256, (label * 41 + 100) % 256];
    for (let k = 0; k < 3; k++)
      for (let p = 0; p < 1024; p++) {
        const [y, x] = [Math.floor(p / 32), p % 32];
        b[i * 3073 + 1 + k * 1024 + p] = y >= 8 && y < 24 && x >= 8 && x < 24 ? colour[k] : rng.int(0, 256);
      }
  }
  return b;
}

describe('examples/train.ts', () => {
  it('runs as a user runs it (the package built, imports by name): the cifar-resnet recipe, evaluation, EMA, saved models', async () => {
    const source = readFileSync('examples/train.ts', 'utf8');
    expect(source).toMatch(/from 'skipgraph';/);
    expect(source).toMatch(/from 'skipgraph\/runtime';/);
    expect(source).not.toMatch(/from '\.\.?\//); // nothing from the source tree
    await ensureDist();
    const dir = mkdtempSync(join(tmpdir(), 'sg-example-'));
    writeFileSync(join(dir, 'data_batch_1.bin'), cifarRecords(128, 1));
    writeFileSync(join(dir, 'test_batch.bin'), cifarRecords(50, 2));
    const out = join(dir, 'run');
    const sets = ['stages.0.blocks=1', 'stages.1.blocks=1', 'stages.2.blocks=1'].flatMap((s) => ['--set', s]); // ResNet-8: a cheap test
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/train.ts', '--data', `cifar10-bin:${dir}`, ...sets, '--epochs', '2', '--batch', '32', '--out', out], {
      encoding: 'utf8',
      env: { ...process.env, SKIPGRAPH_BACKEND: 'wasm' },
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend: wasm/m);
    expect(r.stdout).toMatch(/^cifar_resnet20: [\d,]+ trainable params; 128 training, 50 held-out images$/m);
    const epochs = [...r.stdout.matchAll(/^epoch (\d)\/2: loss (\d+\.\d{4}), held-out top-1 ([\d.]+)% top-5 ([\d.]+)%, EMA top-1 ([\d.]+)%, \d+ img\/s$/gm)];
    expect(epochs.map((m) => m[1])).toEqual(['1', '2']);
    expect(Number(epochs[1][4])).toBeGreaterThanOrEqual(Number(epochs[1][3]));
    expect(r.stdout).toMatch(/^true\\pred +0 +1 +2 +3 +4 +5 +6 +7 +8 +9 +acc$/m);
    expect(existsSync(join(out, 'model.json')) && existsSync(join(out, 'ema', 'model.json'))).toBe(true);

    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'name: b\ninput: { height: 32, width: 32, channels: 3 }\nclasses: 10\nstem:\n  - { op: conv, filters: 16, kernal: 3 }\n');
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'examples/train.ts', '--arch', broken, '--data', `cifar10-bin:${dir}`], { encoding: 'utf8', env: { ...process.env, SKIPGRAPH_BACKEND: 'wasm' }, timeout: 120_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/broken\.yaml:5:\d+/); // formatDiagnostics: file:line:col
  }, 300_000);
});
