/**
 * The model-folder fuzzer (issue 19): mutations of a good model folder (model.json as JSON and as
 * text, weights.bin, the files the manifest names: symlinks out, FIFOs, /dev/zero, folders) and
 * of a good safetensors file (header length, header JSON, data bytes, NaN), each read the way
 * `weights export` / `fold` and `weights import` / `check` read them. The outcome of every case
 * must be a loaded model or a skipgraph UserError: anything else thrown is counted as an uncaught
 * exception, a case over 2 s as a hang, a sentinel file's bytes (it lies next to the folder) in
 * any output or message as a read outside the folder, and a stack frame in a message as a trace.
 *
 * Used by test/property/model_mutate.property.test.ts (a CI slice) and bench/model_fuzz.ts
 * (SKIPGRAPH_FUZZ_N=100000).
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource, type CompiledGraph } from '../../src/compiler/index.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { UserError } from '../../src/errors/index.js';
import { mulberry32 } from '../../src/random/index.js';
import { saveModel } from '../../src/targets/tfjs/io/model_files.js';
import { checkStateDict, hasProblems, loadStateDict, openSafetensors, stateDictBytes, stateDictSlots, ValueCheck } from '../../src/targets/tfjs/weights/index.js';
import { inspectSavedModel, modelFromSaved } from '../../src/targets/tfjs/weights/saved.js';
import { TINY_FLATTEN_YAML } from '../parity/fixtures.js';

/** 4-byte patterns: read as weights they survive any transpose as whole float32s. */
const SENTINEL_WORD = 'SNTL';
const SENTINEL = Buffer.from(`${SENTINEL_WORD}`.repeat(5000)); // 20,000 bytes: as large as weights.bin
const PASSWD = /root:x:0:0/;
const FRAME = /^\s{4}at |at .*\(node:internal|\.js:[0-9]/m;

export interface Figures {
  cases: number;
  loaded: number;
  refused: number;
  /** Exceptions that are not skipgraph UserErrors (the CLI would call them internal errors or "cannot read"). */
  uncaught: number;
  hangs: number;
  outsideReads: number;
  traces: number;
  maxMs: number;
  byTarget: Record<string, number>;
  messages: Map<string, number>;
  failures: string[];
}

interface World {
  root: string;
  graph: CompiledGraph;
  model: tf.LayersModel;
  goodJson: string;
  goodBin: Buffer;
  goodSt: Buffer;
}

/** Builds the good model folder and safetensors file under `root` (the sentinel lies in root, outside the folders). */
export async function makeWorld(root: string): Promise<World> {
  await selectBackend({ force: 'cpu' });
  mkdirSync(root, { recursive: true });
  const graph = compileSource(TINY_FLATTEN_YAML).graph!;
  const model = buildModel(graph, { seed: 3, probe: false });
  for (const w of model.weights) if (w.originalName.endsWith('moving_variance')) w.write(tf.fill(w.shape as number[], 1.25));
  const good = join(root, 'good');
  await saveModel(model, good);
  writeFileSync(join(root, 'sentinel.bin'), SENTINEL);
  return { root, graph, model, goodJson: readFileSync(join(good, 'model.json'), 'utf8'), goodBin: readFileSync(join(good, 'weights.bin')), goodSt: Buffer.from(stateDictBytes(model, graph)) };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

const PATHS: unknown[] = ['../sentinel.bin', '../../sentinel.bin', '/etc/passwd', '/proc/self/environ', '/dev/zero', './fifo', './link-out', './link-zero', './link-in', './sub', './nope.bin', '', '.', '..', 'weights.bin\u0000x', 'sub/../weights.bin', 'sub/../../sentinel.bin', 42, null, { a: 1 }, './weights.bin', 'weights.bin'];
const DIMS: unknown[] = [0, 1, 2, 3, 8, 9, -1, 2 ** 31, 2 ** 53, 1e9, 1.5, 'x', null, [], 20_000_000];
const DTYPES: unknown[] = ['string', 'int32', 'complex64', 'bool', 'float16', 'uint8', null, 7, 'float32'];
const NAMES: unknown[] = ['__proto__', 'constructor', 'toString', 'conv1/kernel', 'bn1/gamma', 'x', '', null, 5];
const VALUES = [NaN, Infinity, -Infinity, -1, 0, 1e38, -0];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function mutateModelJson(r: Rand, j: Json): void {
  const group = j.weightsManifest?.[0];
  const ws: Json[] = group?.weights ?? [];
  const w = ws.length > 0 ? ws[int(r, ws.length)] : undefined;
  switch (int(r, 14)) {
    case 0:
      group.paths[0] = pick(r, PATHS);
      break;
    case 1:
      group.paths.push(pick(r, PATHS));
      break;
    case 2:
      group.paths = [pick(r, PATHS), pick(r, PATHS)];
      break;
    case 3:
      if (w) w.shape[int(r, w.shape.length + 1)] = pick(r, DIMS);
      break;
    case 4:
      if (w) w.dtype = pick(r, DTYPES);
      break;
    case 5:
      if (w) w.name = pick(r, NAMES);
      break;
    case 6:
      ws.splice(int(r, ws.length), 1);
      break;
    case 7:
      if (w) ws.push({ ...w });
      break;
    case 8:
      if (w) w.quantization = pick(r, [{ dtype: 'uint8', scale: 0.1, min: 0 }, { dtype: 'float16' }, { dtype: 'int4' }, null, 'x']);
      break;
    case 9:
      j.weightsManifest = pick(r, [undefined, null, {}, [], 'x', [{}], [{ paths: [], weights: [] }], [group, group]]);
      break;
    case 10:
      if (r() < 0.5) delete j.modelTopology;
      else j.modelTopology = pick(r, [null, {}, [], 'x', { config: { layers: 'x' } }]);
      break;
    case 11: {
      const layers: Json[] | undefined = j.modelTopology?.config?.layers;
      if (layers && layers.length > 0) {
        const l = layers[int(r, layers.length)];
        if (r() < 0.5) layers.splice(layers.indexOf(l), 1);
        else l.name = pick(r, NAMES);
      }
      break;
    }
    case 12: {
      // the 524M-parameter conv of the issue: topology and manifest agree on it
      const conv = j.modelTopology?.config?.layers?.find((l: Json) => l.name === 'conv1');
      if (conv) conv.config.filters = 20_000_000;
      const k = ws.find((x) => x.name === 'conv1/kernel');
      if (k) k.shape = [3, 3, 3, 20_000_000];
      break;
    }
    case 13:
      if (group) group.weights = ws.slice().reverse();
      break;
  }
}

function mutateText(r: Rand, text: string): Buffer {
  const b = Buffer.from(text, 'utf8');
  switch (int(r, 3)) {
    case 0:
      return b.subarray(0, int(r, b.length + 1));
    case 1: {
      const at = int(r, b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, ['"', '{', '}', ',', '\u0000', '\\', '[', '1e999', '-', 'é'])), b.subarray(at)]);
    }
    default: {
      const c = Buffer.from(b);
      c[int(r, c.length)] = int(r, 256);
      return c;
    }
  }
}

function mutateBytes(r: Rand, b: Buffer): Buffer {
  switch (int(r, 4)) {
    case 0:
      return b.subarray(0, int(r, b.length + 1));
    case 1:
      return Buffer.concat([b, Buffer.alloc(1 + int(r, 8))]);
    case 2: {
      const c = Buffer.from(b);
      c.writeFloatLE(pick(r, VALUES), 4 * int(r, c.length / 4));
      return c;
    }
    default: {
      const c = Buffer.from(b);
      for (let i = 0; i < 1 + int(r, 4); i++) c[int(r, c.length)] = int(r, 256);
      return c;
    }
  }
}

/** The folder's extra entries the manifest may name: symlinks out and in, a FIFO, a folder. */
function furnish(dir: string, root: string): void {
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(root, 'sentinel.bin'), join(dir, 'link-out'));
  symlinkSync('/dev/zero', join(dir, 'link-zero'));
  symlinkSync('weights.bin', join(dir, 'link-in'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
}

function mutateSafetensors(r: Rand, st: Buffer): Buffer {
  const n = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + n).toString('utf8')) as Json;
  const data = st.subarray(8 + n);
  const keys = Object.keys(header).filter((k) => k !== '__metadata__');
  const e = header[pick(r, keys)] as Json;
  let newData = data;
  let lengthOverride: bigint | undefined;
  switch (int(r, 10)) {
    case 0:
      lengthOverride = pick(r, [0n, 1n, 2n, BigInt(n - 1), BigInt(n + 1), 2n ** 63n, 100_000_001n, BigInt(st.length)]);
      break;
    case 1:
      e.dtype = pick(r, ['I64', 'U8', 'F16', 'BF16', 'F64', 'XX', null, 3]);
      break;
    case 2:
      e.shape[int(r, e.shape.length + 1)] = pick(r, DIMS);
      break;
    case 3:
      e.data_offsets[int(r, 2)] = pick(r, [0, 1, -1, 2 ** 53, data.length, data.length + 4, 1.5, 'x']);
      break;
    case 4:
      for (let i = 0; i < 1 + int(r, 3000); i++) header[`extra.${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
      break;
    case 5:
      header.__metadata__ = pick(r, [{ a: 1 }, 'x', null, [], { format: 'pt' }]);
      break;
    case 6:
      delete header[pick(r, keys)];
      break;
    case 7:
      header[pick(r, NAMES.filter((x) => typeof x === 'string') as string[])] = { ...e };
      break;
    case 8: {
      const c = Buffer.from(data);
      c.writeFloatLE(pick(r, VALUES), 4 * int(r, c.length / 4));
      newData = c;
      break;
    }
    default:
      return mutateBytes(r, st);
  }
  let json: Buffer = Buffer.from(JSON.stringify(header));
  if (r() < 0.3) json = mutateText(r, json.toString('utf8'));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length) % 2n ** 64n);
  return Buffer.concat([len, json, newData]);
}

/** The sentinel's word anywhere in bytes or text: a read outside the folder reached the output. */
const leaked = (b: Uint8Array | string) => (typeof b === 'string' ? b.includes(SENTINEL_WORD) || PASSWD.test(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength).includes(SENTINEL_WORD));

export function newFigures(): Figures {
  return { cases: 0, loaded: 0, refused: 0, uncaught: 0, hangs: 0, outsideReads: 0, traces: 0, maxMs: 0, byTarget: {}, messages: new Map(), failures: [] };
}

/** Runs cases [from, to) of `seed`; adds to `f`. */
export function runCases(world: World, seed: number, from: number, to: number, f: Figures): void {
  // One folder for every case: its extra entries (links, a FIFO, a folder) are made once; each
  // case rewrites model.json and weights.bin.
  const work = join(world.root, 'case');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  furnish(work, world.root);
  for (let i = from; i < to; i++) {
    const r = mulberry32(seed * 1_000_003 + i); // src/random: a failing case is reproduced by its seed and index
    const target = r() < 0.6 ? 'model-folder' : 'safetensors';
    f.byTarget[target] = (f.byTarget[target] ?? 0) + 1;
    let output: Uint8Array | undefined;
    const t0 = performance.now();
    try {
      if (target === 'model-folder') {
        let json: Buffer = Buffer.from(world.goodJson);
        let bin = world.goodBin;
        for (let k = 0, m = 1 + int(r, 3); k < m; k++) {
          const what = r();
          if (what < 0.55) {
            try {
              const j = JSON.parse(json.toString('utf8')) as Json;
              mutateModelJson(r, j);
              json = Buffer.from(JSON.stringify(j) ?? 'null');
            } catch {
              // the text is no longer JSON, or the mutation did not apply to an already-mutated structure
            }
          } else if (what < 0.75) json = mutateText(r, json.toString('utf8'));
          else bin = mutateBytes(r, bin);
          if (r() < 0.15) break;
        }
        writeFileSync(join(work, 'model.json'), json);
        rmSync(join(work, 'weights.bin'), { force: true });
        const special = r();
        if (special < 0.03) symlinkSync(join(world.root, 'sentinel.bin'), join(work, 'weights.bin'));
        else if (special < 0.05) symlinkSync('fifo', join(work, 'weights.bin')); // a FIFO inside the folder
        else writeFileSync(join(work, 'weights.bin'), bin);
        const info = inspectSavedModel(work);
        modelFromSaved(info, world.graph, { into: world.model });
        output = stateDictBytes(world.model, world.graph);
      } else {
        const path = join(work, 'w.safetensors');
        writeFileSync(path, mutateSafetensors(r, world.goodSt));
        const src = openSafetensors(path);
        try {
          const slots = stateDictSlots(world.graph);
          const prefix = '';
          if (!hasProblems(checkStateDict(slots, src.header.tensors, prefix))) {
            const check = new ValueCheck(path);
            for (const s of slots) check.add(s.key, src.float32(s.key), s.variable === 'moving_variance');
            check.throwIfAny();
          }
          loadStateDict(world.model, world.graph, src, { prefix });
        } finally {
          src.close();
        }
      }
      f.loaded++;
      if (output && leaked(output)) {
        f.outsideReads++;
        f.failures.push(`case ${seed}/${i} (${target}): the output holds the sentinel`);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof UserError) {
        f.refused++;
        const key = message.replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N').slice(0, 90);
        f.messages.set(key, (f.messages.get(key) ?? 0) + 1);
      } else {
        f.uncaught++;
        if (f.failures.length < 50) f.failures.push(`case ${seed}/${i} (${target}): ${e instanceof Error ? e.stack : message}`);
      }
      if (leaked(message)) {
        f.outsideReads++;
        f.failures.push(`case ${seed}/${i} (${target}): the message holds the sentinel or /etc/passwd: ${message.slice(0, 300)}`);
      }
      if (FRAME.test(message)) {
        f.traces++;
        f.failures.push(`case ${seed}/${i} (${target}): a stack frame in the message: ${message.slice(0, 300)}`);
      }
    }
    const ms = performance.now() - t0;
    f.maxMs = Math.max(f.maxMs, ms);
    if (ms > 2000) {
      f.hangs++;
      f.failures.push(`case ${seed}/${i} (${target}): ${ms.toFixed(0)} ms`);
    }
    f.cases++;
  }
  rmSync(work, { recursive: true, force: true });
}
