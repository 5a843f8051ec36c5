import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('examples/train.ts', () => {
  it('compiles, builds, fits with callbacks, saves and reloads through the public API', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sg-example-')), 'model');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/train.ts', '--epochs', '1', '--limit', '256', '--out', out], {
      encoding: 'utf8',
      env: { ...process.env, SKIPGRAPH_BACKEND: 'wasm' },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend: wasm/m);
    expect(r.stdout).toMatch(/^mnist_resnet: 78746 parameters$/m);
    expect(r.stdout).toMatch(/^epoch 1: loss \d+\.\d{4}, held-out accuracy [\d.]+%$/m);
    expect(r.stdout).toMatch(/reloaded model agrees on 64\/64 predictions/);
    expect(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin'))).toBe(true);
  });
});
