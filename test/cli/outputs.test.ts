/**
 * Output folders (issue 19, items 2, 6 and 9): a full disk gives exit 1 with the reason (on a
 * 16 KiB tmpfs, when this process may mount one; otherwise the ENOSPC mapping is covered by
 * security.test.ts), a failed write leaves the old output whole and no temporary behind, a
 * training run locks its --out, and the temporaries of killed runs are removed on start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutDir, LOCK, writeFolderAtomic } from '../../src/io/out_dir.js';
import { claimRunFolder } from '../../src/targets/tfjs/train/checkpoint.js';
import { compileSource } from '../../src/compiler/files.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { saveModel } from '../../src/targets/tfjs/io/model_files.js';
import { stateDictBytes } from '../../src/targets/tfjs/weights/index.js';
import { TINY_FLATTEN_YAML } from '../parity/fixtures.js';
import { ensureDist, repoRoot, runBin, STACK_FRAME } from './bin.js';

const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-outputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A process id that is surely not running: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('writing a model folder whole', () => {
  it('a write that fails leaves the old folder as it was and no temporary folder', async () => {
    const out = join(tmp, 'atomic');
    mkdirSync(out);
    writeFileSync(join(out, 'model.json'), 'old');
    await expect(
      writeFolderAtomic(out, async (t) => {
        writeFileSync(join(t, 'model.json'), 'new, half written');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
      }),
    ).rejects.toThrow(/ENOSPC/);
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe('old');
    expect(readdirSync(tmp).filter((e) => e.includes('.tmp-'))).toEqual([]);
    writeFileSync(join(out, 'README'), 'the user\'s own file');
    await writeFolderAtomic(out, async (t) => writeFileSync(join(t, 'model.json'), 'new'));
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe('new');
    expect(readFileSync(join(out, 'README'), 'utf8')).toBe("the user's own file"); // other files stay
    expect(readdirSync(tmp).filter((e) => e.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(out).filter((e) => e.includes('.tmp-'))).toEqual([]);
    await writeFolderAtomic(join(tmp, 'fresh/deeper'), async (t) => writeFileSync(join(t, 'model.json'), 'x'));
    expect(readFileSync(join(tmp, 'fresh/deeper/model.json'), 'utf8')).toBe('x');
  });

  it('--out is checked before any work: a file, a path under a file, /proc, and another model', () => {
    writeFileSync(join(tmp, 'a-file'), 'x');
    expect(() => checkOutDir(join(tmp, 'a-file'))).toThrow(/is a file; --out names a folder/);
    expect(() => checkOutDir(join(tmp, 'a-file/sub'))).toThrow(/a-file is a file, not a folder/);
    expect(() => checkOutDir('/proc/nope/deeper')).toThrow(/cannot create --out \/proc\/nope\/deeper: \/proc: no such file or folder/);
    mkdirSync(join(tmp, 'm'));
    writeFileSync(join(tmp, 'm/model.json'), '{}');
    expect(() => checkOutDir(join(tmp, 'm'))).toThrow(/already holds a model \(model\.json\)/);
    expect(checkOutDir(join(tmp, 'm'), { force: true })).toBe(join(tmp, 'm'));
    expect(() => checkOutDir(join(tmp, 'm'), { inputs: [join(tmp, 'm')] })).toThrow(/is the model folder being read/);
    expect(readdirSync(tmp).filter((e) => e.includes('probe'))).toEqual([]);
  });
});

describe('a training run claims its --out', () => {
  it('removes the temporaries of dead runs on start, keeps a live run\'s, and locks the folder', () => {
    const out = join(tmp, 'run');
    const dead = deadPid();
    mkdirSync(join(out, 'checkpoints'), { recursive: true });
    const stale = [join(out, `checkpoints/.epoch-0003.tmp-${dead}`), join(out, `weights.bin.tmp-${dead}-0badcafe`), join(out, `latest.json.tmp-${dead}-12345678`)];
    mkdirSync(stale[0]);
    writeFileSync(join(stale[0], 'weights.bin'), 'half');
    writeFileSync(stale[1], 'half');
    writeFileSync(stale[2], 'half');
    const live = join(out, `checkpoints/.epoch-0004.tmp-${process.pid}`);
    mkdirSync(live);
    const mine = join(out, `notes.tmp-${dead}`); // not skipgraph's: kept
    writeFileSync(mine, 'x');

    const release = claimRunFolder(out);
    for (const s of stale) expect(existsSync(s), s).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(mine)).toBe(true);
    expect(readFileSync(join(out, LOCK), 'utf8')).toBe(String(process.pid));
    expect(() => claimRunFolder(out)).toThrow(new RegExp(`another skipgraph run \\(process ${process.pid}\\) is writing to --out .*run; wait for it to finish`));
    release();
    expect(existsSync(join(out, LOCK))).toBe(false);
    // A lock left by a process that is gone is taken over.
    writeFileSync(join(out, LOCK), String(deadPid()));
    claimRunFolder(out)();
  });
});

/** Whether this process may mount a tmpfs (root); the mount itself is made in beforeAll. */
const canMount = process.platform === 'linux' && process.getuid?.() === 0;
const disk = join(tmp, 'small');

describe('a full disk through the real CLI (train, fold, import, export)', () => {
  if (!canMount) console.log('skipping the full-disk runs: cannot mount a tmpfs here (not root); the ENOSPC mapping is tested in security.test.ts');
  let mounted = false;
  const arch = join(tmp, 'tiny.yaml');
  const st = join(tmp, 'w.safetensors');
  const model = join(tmp, 'model');

  beforeAll(async () => {
    if (!canMount) return;
    mkdirSync(disk, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', disk], { stdio: 'pipe' });
    mounted = true;
    await selectBackend({ force: 'cpu' });
    writeFileSync(arch, TINY_FLATTEN_YAML);
    const g = compileSource(TINY_FLATTEN_YAML).graph!;
    const m = buildModel(g, { seed: 1, probe: false });
    writeFileSync(st, stateDictBytes(m, g));
    await saveModel(m, model);
    m.dispose();
    await ensureDist();
  }, 300_000);
  afterAll(() => {
    if (mounted) execFileSync('umount', [disk]);
  });

  it.skipIf(!canMount)('exits 1 with "no space left on the device", no stack trace, and leaves no temporaries', async () => {
    const runs = [
      ['weights', 'import', arch, '--from', st, '--out', join(disk, 'imported'), '--backend', 'wasm'],
      ['weights', 'export', arch, '--model', model, '--out', join(disk, 'x.safetensors')],
      ['fold', arch, '--model', model, '--out', join(disk, 'folded'), '--backend', 'wasm'],
      ['train', join(repoRoot, 'architectures/mnist_resnet.yaml'), '--out', join(disk, 'run'), '--epochs', '1', '--train-limit', '64', '--test-limit', '32', '--backend', 'wasm', '--no-progress'],
    ];
    for (const args of runs) {
      const r = await runBin(args);
      expect(r.code, `${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^error: cannot write .*: no space left on the device \(ENOSPC\)$/m);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    const left = readdirSync(disk, { recursive: true }).map(String).filter((e) => e.includes('.tmp-') && !e.startsWith('run'));
    expect(left).toEqual([]);
  }, 300_000);
});
