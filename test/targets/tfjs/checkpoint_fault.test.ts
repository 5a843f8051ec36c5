import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { latestCheckpoint, readCheckpoint, selectBackend } from '../../../src/targets/tfjs/index.js';

/**
 * Fault test (issue 5): a checkpoint writer killed with SIGKILL at arbitrary moments, in the middle
 * of writing a checkpoint, must leave the previous checkpoint intact: latest.json points at a
 * complete checkpoint that loads, whose weights are all from one epoch.
 */
beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

async function killDuringWrites(out: string, extraMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/targets/tfjs/helpers/checkpoint_writer.ts', out], { stdio: ['ignore', 'pipe', 'inherit'] });
  let completed = 0;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      const m = [...b.toString().matchAll(/epoch (\d+)/g)];
      if (m.length) completed = Number(m[m.length - 1][1]);
      // Once at least one checkpoint exists, kill the writer somewhere inside a later write.
      if (completed >= 1 && !child.killed) setTimeout(() => child.kill('SIGKILL'), extraMs);
    });
    child.on('exit', () => resolve());
    child.on('error', reject);
  });
  return completed;
}

describe('checkpoints survive a writer killed midway', () => {
  it.each([0, 3, 17, 41])('SIGKILL %i ms after a completed checkpoint', async (delay) => {
    const out = mkdtempSync(join(tmpdir(), 'skipgraph-ckpt-'));
    const completed = await killDuringWrites(out, delay);
    expect(completed).toBeGreaterThanOrEqual(1);
    const latest = latestCheckpoint(out);
    expect(latest).toBeDefined();
    // The pointer names a checkpoint at least as new as the last one reported complete.
    expect(latest!.state.epoch).toBeGreaterThanOrEqual(completed);
    const { model } = await readCheckpoint(latest!.dir);
    try {
      const values = new Set<number>();
      for (const w of model.weights) for (const v of w.read().dataSync()) values.add(v);
      expect([...values]).toEqual([latest!.state.epoch]);
    } finally {
      model.dispose();
    }
  });
});
