/**
 * Every recipe flag works on `--engine torch` (issue 26): the CLI passes each one to the trainer
 * (the command --prepare prints), and the trainer resolves them over the recipe into the settings
 * it trains with (history.json), mixup, EMA, clipping and --drop-last included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPython } from '../../../src/targets/torch/train.js';
import { RECIPE_FLAG_NAMES, flagName } from '../../../src/training/flags.js';
import { runCli } from '../../helpers/cli.js';

let python: string | undefined;
try {
  python = findPython().python;
} catch (e) {
  process.stderr.write(`torch flag tests skipped: ${(e as Error).message}\n`);
}
const dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLAGS = [
  '--recipe', 'cifar-resnet', '--batch', '16', '--lr', '0.02', '--optimizer', 'sgd', '--momentum', '0.8', '--nesterov', '--weight-decay', '0.0001', '--decay-all',
  '--clip-grad', '2', '--schedule', 'multistep', '--warmup', '0.5', '--schedule-per', 'epoch', '--lr-step-size', '3', '--lr-gamma', '0.5', '--milestones', '1,2',
  '--label-smoothing', '0.05', '--augment', 'crop:2+flip:0.3+mixup:0.4', '--ema', '0.9', '--drop-last',
];

describe.skipIf(python === undefined)('every recipe flag on --engine torch', () => {
  it('reaches the trainer and is what it trains with', async () => {
    for (const k of RECIPE_FLAG_NAMES) expect(FLAGS, flagName(k)).toContain(flagName(k));
    const out = join(dir, 'run');
    const r = await runCli('train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--train-limit', '40', '--test-limit', '8', '--epochs', '3', ...FLAGS, '--prepare', '--out', out);
    expect(r.code, r.err).toBe(0);
    const command = r.out.split('\n').find((l) => l.startsWith('  python3 skipgraph_train.py'))!;
    for (const f of FLAGS.filter((w) => w.startsWith('--'))) expect(command, f).toContain(` ${f}`);
    const args = command.trim().split(/\s+/).slice(1).map((a) => a.replace(/^'|'$/g, ''));
    const t = spawnSync(python!, [...args, '--max-steps', '3', '--threads', '1'], { cwd: out, encoding: 'utf8', timeout: 240_000 });
    expect(t.status, t.stderr).toBe(0);
    const h = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { settings: Record<string, unknown>; history: { steps?: number }[] };
    expect(h.settings).toEqual({
      batch: 16, lr: 0.02, optimizer: 'sgd', momentum: 0.8, nesterov: true, weightDecay: 0.0001, decayAll: true, clipGrad: 2, schedule: 'multistep', warmup: 0.5,
      warmupFactor: 0.01, schedulePer: 'epoch', lrStepSize: 3, lrGamma: 0.5, milestones: [1, 2], labelSmoothing: 0.05, augment: { crop: 2, flip: 0.3, mixup: 0.4 }, ema: 0.9, dropLast: true,
    });
    expect(h.history.at(-1)!.steps).toBe(1); // 2 whole steps an epoch (40 / 16, the last partial batch dropped): the third step is epoch 2's first
    expect(readFileSync(join(out, 'ema.pt')).length).toBeGreaterThan(1000);
  }, 300_000);
});
