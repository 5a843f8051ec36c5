/**
 * A reader that goes away (issue 22, "EPIPE on stdout"): `skipgraph ... | head -1` used to end in
 * exit 70 with "internal error" (the write's EPIPE was uncaught). Each command runs through the
 * real CLI with its stdout a pipe whose reading end is closed before the command writes (so the
 * first write fails, whatever the timing), and once through a shell's `| head -1`; each must exit
 * 0 with nothing on stderr.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, ensureDist, repoRoot } from './bin.js';
import { tinySavedModel } from './tiny_model.js';

const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-pipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = join(tmp, 'tiny-model'); // made by tinySavedModel(tmp)

/** Runs the CLI with stdout's reading end closed at once; the exit code and stderr. */
function closedReader(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the command prints anything
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

beforeAll(async () => {
  await ensureDist();
  expect((await tinySavedModel(tmp)).model).toBe(model);
}, 300_000);

describe('every command exits quietly when its reader goes away', () => {
  const runs: [string, string[]][] = [
    ['compile (a big table)', ['compile', 'architectures/resnet152.yaml']],
    ['compile --format json', ['compile', 'architectures/resnet50.yaml', '-f', 'json']],
    ['check', ['check', 'architectures/resnet18.yaml']],
    ['sweep (the table on stdout, the summary on stderr)', ['sweep', 'architectures/resnet18.yaml', '--grid', 'stages.0.blocks=1,2,3']],
    ['export --target torch (to stdout)', ['export', 'architectures/resnet18.yaml', '--target', 'torch']],
    ['infer (a TF.js model folder)', ['infer', model, '--runs', '1', '--backend', 'cpu']],
    ['train --engine torch --prepare', ['train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--prepare', '--out', join(tmp, 'run'), '--train-limit', '8', '--test-limit', '8']],
    ['--help', ['--help']],
  ];

  it.each(runs)('%s: exit 0, nothing on stderr', async (_, args) => {
    const r = await closedReader(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 150_000);

  it('`compile architectures/resnet152.yaml | head -1` in a shell: the first line, exit 0, nothing on stderr', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" compile architectures/resnet152.yaml -f json | head -1; echo "exit \${PIPESTATUS:-?}"`], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stdout.split('\n')[0]).toBe('{');
    expect(r.stderr).toBe('');
    const withStatus = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" compile architectures/resnet152.yaml -f json | head -1 >/dev/null`], { cwd: repoRoot, encoding: 'utf8' });
    expect(withStatus.stderr).toBe('');
    expect(withStatus.status).toBe(0);
  }, 120_000);
});
