/**
 * Reference fixtures for the parity suite: tools/torch_reference.py run once per content hash of
 * the script and its arguments, into a cache folder (never committed), shared by every test file
 * and every run on the machine. Without a Python that imports torch and torchvision the suite
 * skips, and one line (for the whole run) says why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipWithout } from '../helpers/require.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCRIPT = join(ROOT, 'tools/torch_reference.py');

export const IMAGENET_MODELS = ['resnet18', 'resnet50', 'resnext50_32x4d', 'wide_resnet50_2', 'resnet50_os8', 'resnet50_os16', 'preact_resnet18', 'seresnet50', 'regnet_y_400mf'] as const;
export const MODELS = [...IMAGENET_MODELS, 'cifar_resnet20', 'tiny_flatten'] as const;
export type ParityModel = (typeof MODELS)[number];

/**
 * tools/torch_reference.py's TinyFlatten: a conv with bias, grouped 3x3 convs, a projection
 * shortcut and a flatten head over a 4x4x32 map (PyTorch flattens C, H, W; TF.js H, W, C).
 */
export const TINY_FLATTEN_YAML = `
name: tiny_flatten
input: { height: 8, width: 8, channels: 3 }
classes: 5
shortcut: projection
stem:
  - { op: conv, filters: 8, kernel: 3, padding: 1, bias: true }
  - { op: bn }
  - { op: relu }
stages:
  - { block: bottleneck, channels: 8, blocks: 2, stride: 2, groups: 2, width_per_group: 32 }
head:
  - { op: flatten }
  - { op: dense, units: $classes }
`;

/** The reduced ImageNet input (the CIFAR net keeps 32x32) and the batch. */
export const SIZE = 64;
export const BATCH = 2;
const ARGS = ['--size', String(SIZE), '--batch', String(BATCH), '--seed', '0', '--models', MODELS.join(',')];

export type Fixtures = { dir: string; python: string; seconds: number } | { skip: string };

/**
 * The first of $SKIPGRAPH_PYTHON, /usr/bin/python3 (Debian's packages), python3 that has torch
 * and torchvision; SKIPGRAPH_PARITY=skip skips on purpose.
 */
export function findPython(): { python: string } | { skip: string } {
  if (process.env.SKIPGRAPH_PARITY === 'skip') return { skip: 'SKIPGRAPH_PARITY=skip' };
  const candidates = [process.env.SKIPGRAPH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => Boolean(p));
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python };
    const why = r.error ? (r.error as NodeJS.ErrnoException).code : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  return { skip: `no Python with torch and torchvision (apt-get install python3-torch python3-torchvision; tried ${tried.join('; ')})` };
}

function cacheDir(): string {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).update(JSON.stringify(ARGS)).digest('hex').slice(0, 16);
  return join(process.env.SKIPGRAPH_PARITY_CACHE ?? join(tmpdir(), 'skipgraph-parity'), hash);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The fixtures folder, generated if needed. Test files racing for it take a lock (mkdir); the
 * loser waits for the winner's rename. A lock older than 15 minutes is taken over.
 */
export async function ensureFixtures(): Promise<Fixtures> {
  const found = findPython();
  if ('skip' in found) return found;
  const dir = cacheDir();
  const done = () => existsSync(join(dir, 'manifest.json'));
  if (done()) return { dir, python: found.python, seconds: 0 };
  mkdirSync(dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (done()) return { dir, python: found.python, seconds: 0 };
      try {
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* the lock went away: try again */
      }
      if (Date.now() - t0 > 15 * 60_000) throw new Error(`waited 15 minutes for ${lock}`);
      await sleep(500);
    }
  }
  try {
    if (done()) return { dir, python: found.python, seconds: 0 };
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    execFileSync(found.python, [SCRIPT, 'fixtures', '--out', tmp, ...ARGS], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60_000 });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    // Fixtures of older versions of the script are dead weight (about 430 MB each): drop them.
    for (const old of readdirSync(dirname(dir))) {
      if (/^[0-9a-f]{16}$/.test(old) && join(dirname(dir), old) !== dir) rmSync(join(dirname(dir), old), { recursive: true, force: true });
    }
    return { dir, python: found.python, seconds: (Date.now() - t0) / 1000 };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Prints the skip reason once per test run, so a machine without torch sees one line, not one per
 * file; under SKIPGRAPH_REQUIRE_ALL=1 it throws instead (test/helpers/require.ts).
 */
export function announceSkip(reason: string): void {
  skipWithout('parity with torchvision', reason);
}
