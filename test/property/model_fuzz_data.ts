/**
 * The trainer's data-file slice of the model fuzzer (issue 22): mutations of the data.safetensors
 * that `train --engine torch` writes (src/targets/torch/data_file.ts: train_x, train_y, test_x,
 * test_y and the "info" metadata), uint8 and float32 pixels, uint8 and int32 labels. Each mutated
 * file goes to both readers:
 * - Node: readDataInfo (does the run folder already hold this data?) and writeDataFile over it;
 *   neither may throw, and a file with another key is replaced by a good one;
 * - Python: check_data of python/skipgraph_train_check.py (what `--check-data FILE` and the
 *   trainer run before training), in one Python process per batch of files, each file under a
 *   2 s alarm. It must return or raise its DataError: any other exception is uncaught.
 * A case over 2 s is a hang (Node: timed per case; Python: the alarm).
 *
 * Used by test/property/model_mutate_data.property.test.ts (a CI slice) and bench/model_fuzz.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../../src/random/index.js';
import type { ImageSet } from '../../src/data/dataset.js';
import { readDataInfo, writeDataFile } from '../../src/targets/torch/data_file.js';
import type { Figures } from './model_fuzz.js';

export const PYTHON = process.env.SKIPGRAPH_PYTHON ?? '/usr/bin/python3';
const PYDIR = resolve('python');

/** Whether Python can import the trainer's data-file check (python/skipgraph_train_check.py, torch-free); the reason when not. */
export function pythonDataMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(PYDIR)}); import skipgraph_train_check, torch`], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? undefined : `${PYTHON} cannot import skipgraph_train_check and torch: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`;
}

export interface DataWorld {
  root: string;
  /** Good files: uint8 pixels with uint8 labels, float32 pixels with int32 labels (past 256 classes). */
  goods: Buffer[];
  split: { train: ImageSet; test: ImageSet };
}

function arrays(r: () => number, count: number, float: boolean, classes: number): ImageSet {
  const [height, width, channels] = [5, 4, 3];
  const n = count * height * width * channels;
  const pixels = float ? Float32Array.from({ length: n }, () => r()) : Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  const labels = classes > 256 ? Uint16Array.from({ length: count }, () => Math.floor(r() * classes)) : Uint8Array.from({ length: count }, () => Math.floor(r() * classes));
  return { name: 'fuzz', height, width, channels, classes, count, pixels, scale: float ? 1 : 1 / 255, labels, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
}

export function makeDataWorld(root: string): DataWorld {
  mkdirSync(root, { recursive: true });
  const r = mulberry32(22);
  const goods: Buffer[] = [];
  let split: DataWorld['split'] | undefined;
  for (const [float, classes] of [[false, 10], [true, 300]] as const) {
    const s = { train: arrays(r, 12, float, classes), test: arrays(r, 5, float, classes) };
    split ??= s;
    const path = join(root, `good-${goods.length}.safetensors`);
    writeDataFile(path, s, 'good');
    goods.push(readFileSync(path));
  }
  return { root, goods, split: split! };
}

type Rand = () => number;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

const DIMS: unknown[] = [0, 1, 2, 3, 5, -1, 2 ** 31, 2 ** 53, 1e9, 1.5, 'x', null, true];
const DTYPES: unknown[] = ['U8', 'F32', 'I32', 'I64', 'F16', 'BF16', 'F64', 'BOOL', 'XX', null, 3];
const INFO_FIELDS: [string, unknown[]][] = [
  ['classes', [0, -1, 1, 2, 255, 1e9, 1.5, 'x', null, true, 2 ** 53]],
  ['scale', [0, -1, NaN, 1e308, 'x', null, 1]],
  ['mean', [[], [0], [NaN, 0, 0], [0, 0, 0, 0], 'x', null, [0.5, 0.5, 0.5]]],
  ['std', [[0, 0, 0], [-1, 1, 1], [1], [1e-300, 1, 1], 'x', null, [1, 1, 1]]],
  ['key', [5, null, 'good', 'other', { a: 1 }]],
  ['name', [null, 5, '\u0000', 'x'.repeat(10_000)]],
];

/** A mutated data file: header JSON, the info metadata, the data bytes (labels past the classes, NaN pixels), or the raw bytes. */
function mutant(r: Rand, good: Buffer): Buffer {
  const n = Number(good.readBigUInt64LE(0));
  if (r() < 0.2) {
    const c = Buffer.from(good);
    switch (int(r, 3)) {
      case 0:
        return c.subarray(0, int(r, c.length + 1));
      case 1:
        return Buffer.concat([c, Buffer.alloc(1 + int(r, 9))]);
      default:
        for (let i = 0; i < 1 + int(r, 6); i++) c[int(r, c.length)] = int(r, 256);
        return c;
    }
  }
  const header = JSON.parse(good.subarray(8, 8 + n).toString('utf8')) as Json;
  let data = Buffer.from(good.subarray(8 + n));
  const names = ['train_x', 'train_y', 'test_x', 'test_y'];
  let lengthOverride: bigint | undefined;
  const mutateOnce = (what: number): void => {
    const name = pick(r, names);
    const t = header[name] as Json | undefined;
    switch (what) {
      case 0:
        lengthOverride = pick(r, [0n, 1n, 7n, BigInt(n - 1), BigInt(n + 1), 2n ** 63n, 2n ** 64n - 1n, 100_000_001n]);
        break;
      case 1:
        if (t) t.dtype = pick(r, DTYPES);
        break;
      case 2:
        if (t) t.shape[int(r, t.shape.length + 1)] = pick(r, DIMS);
        break;
      case 3:
        if (t) t.data_offsets[int(r, 2)] = pick(r, [0, 1, -1, 2 ** 53, data.length, data.length + 8, 1.5, 'x', null]);
        break;
      case 4:
        if (r() < 0.5) delete header[name];
        else header[name] = pick(r, [null, 'x', [], {}, { dtype: 'U8', shape: [0], data_offsets: [0, 0] }]);
        break;
      case 5: {
        // a label at or past the classes, or negative as int32
        const y = header[pick(r, ['train_y', 'test_y'])] as Json;
        const [b] = y.data_offsets as number[];
        const at = b + (y.dtype === 'I32' ? 4 : 1) * int(r, y.shape[0]);
        if (y.dtype === 'I32') data.writeInt32LE(pick(r, [-1, 300, 299, 2 ** 31 - 1, -(2 ** 31)]), at);
        else data[at] = pick(r, [10, 9, 255]);
        break;
      }
      case 6: {
        // NaN, infinite or huge pixels (float files), or any byte
        const x = header[pick(r, ['train_x', 'test_x'])] as Json;
        const [b, e] = x.data_offsets as number[];
        if (x.dtype === 'F32') data.writeFloatLE(pick(r, [NaN, Infinity, -Infinity, 3e38, -0]), b + 4 * int(r, (e - b) / 4));
        else data[b + int(r, e - b)] = int(r, 256);
        break;
      }
      case 7: {
        const meta = (header.__metadata__ ??= {}) as Json;
        let info: Json;
        try {
          info = JSON.parse(meta.info as string) as Json;
        } catch {
          info = {};
        }
        const [field, values] = pick(r, INFO_FIELDS);
        if (r() < 0.15) delete info[field];
        else info[field] = pick(r, values);
        meta.info = JSON.stringify(info);
        break;
      }
      case 8:
        header.__metadata__ = pick(r, [null, 'x', [], {}, { info: 5 }, { info: '{' }, { info: 'null' }, { info: '[]' }, { info: '"x"' }]);
        break;
      case 9:
        for (let i = 0; i < 1 + int(r, 2000); i++) header[`extra.${i}`] = { dtype: 'U8', shape: [0], data_offsets: [0, 0] };
        break;
      default:
        data = data.subarray(0, int(r, data.length + 1));
        break;
    }
  };
  for (let k = 0, m = 1 + int(r, 3); k < m; k++) {
    try {
      mutateOnce(int(r, 11));
    } catch {
      // the mutation does not apply to an already-mutated header (a tensor gone, a shape not a list)
    }
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

const PY_CHECK = `
import json, signal, sys
sys.path.insert(0, sys.argv[1])
from skipgraph_train_check import check_data, DataError
import torch  # check_data imports it on first use: here, so the 2 s alarm never interrupts the import itself
class Hang(Exception):
    pass
def on_alarm(*a):
    raise Hang()
signal.signal(signal.SIGALRM, on_alarm)
out = []
for f in json.load(sys.stdin):
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    try:
        check_data(f)
        r = ["ok", ""]
    except DataError as e:
        r = ["refused", str(e)]
    except Hang:
        r = ["hang", ""]
    except BaseException as e:
        r = ["uncaught", type(e).__name__ + ": " + str(e)[:300]]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out.append(r)
print(json.dumps(out))
`;

const count = (f: Figures, key: string) => f.messages.set(key, (f.messages.get(key) ?? 0) + 1);
const messageKey = (m: string) => m.replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N').slice(0, 90);

/**
 * Runs cases [from, to) of `seed`: each through Node's readers (byTarget 'data-node'), then, with
 * `python`, the whole batch through check_data in one process (byTarget 'data-python').
 */
export function runDataCases(world: DataWorld, seed: number, from: number, to: number, f: Figures, python: boolean): void {
  const work = join(world.root, 'data-case');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const files: string[] = [];
  for (let i = from; i < to; i++) {
    const r = mulberry32(seed * 1_000_003 + i);
    const path = join(work, `${i}.safetensors`);
    const bytes = mutant(r, pick(r, world.goods));
    writeFileSync(path, bytes);
    files.push(path);
    f.byTarget['data-node'] = (f.byTarget['data-node'] ?? 0) + 1;
    const t0 = performance.now();
    try {
      const info = readDataInfo(path);
      const key = r() < 0.5 ? 'good' : 'other';
      const wrote = writeDataFile(path, world.split, key);
      // Another key (or no readable info) must be replaced by a file that reads back with the key.
      if (info?.key !== key && (!wrote || readDataInfo(path)?.key !== key)) throw new Error(`writeDataFile kept a file whose key was ${JSON.stringify(info?.key)}`);
      if (wrote) writeFileSync(path, bytes); // Python reads the mutant
      f.loaded++;
    } catch (e) {
      f.uncaught++;
      if (f.failures.length < 50) f.failures.push(`case ${seed}/${i} (data-node): ${e instanceof Error ? e.stack : String(e)}`);
    }
    const ms = performance.now() - t0;
    f.maxMs = Math.max(f.maxMs, ms);
    if (ms > 2000) {
      f.hangs++;
      f.failures.push(`case ${seed}/${i} (data-node): ${ms.toFixed(0)} ms`);
    }
    f.cases++;
  }
  if (python) {
    const p = spawnSync(PYTHON, ['-c', PY_CHECK, PYDIR], { input: JSON.stringify(files), encoding: 'utf8', timeout: 60_000 + 3_000 * files.length, maxBuffer: 256 << 20 });
    if (p.status !== 0) {
      f.uncaught++;
      f.failures.push(`cases ${seed}/${from}..${to} (data-python): the checker process failed: ${p.error?.message ?? p.stderr.slice(-600)}`);
    } else {
      const results = JSON.parse(p.stdout) as [string, string][];
      results.forEach(([outcome, message], k) => {
        const i = from + k;
        f.byTarget['data-python'] = (f.byTarget['data-python'] ?? 0) + 1;
        f.cases++;
        if (outcome === 'ok') f.loaded++;
        else if (outcome === 'refused') {
          f.refused++;
          count(f, `python: ${messageKey(message)}`);
          if (/Traceback|File ".*", line \d+/.test(message)) {
            f.traces++;
            f.failures.push(`case ${seed}/${i} (data-python): a traceback in the message: ${message.slice(0, 300)}`);
          }
        } else if (outcome === 'hang') {
          f.hangs++;
          f.failures.push(`case ${seed}/${i} (data-python): over 2 s`);
        } else {
          f.uncaught++;
          if (f.failures.length < 50) f.failures.push(`case ${seed}/${i} (data-python): ${message}`);
        }
      });
    }
  }
  rmSync(work, { recursive: true, force: true });
}
