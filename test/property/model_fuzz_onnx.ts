/**
 * The .onnx slice of the model fuzzer (issue 22): mutations of a good exported model (bytes cut,
 * flipped or appended; and, decoded, huge or negative dims, other element types, initializers
 * whose dims, type or bytes disagree, external data named inside, outside, through links and at
 * devices, unknown ops, wild attributes, missing inputs, second inputs, other opsets), each given
 * to `skipgraph infer` through the real command line in process. Every case must exit 0 or 1:
 * exit 70 (or anything thrown) is an uncaught error, a case over 2 s a hang, the sentinel's bytes
 * (it lies next to the model's folder) in any output a read outside, a stack frame a trace.
 *
 * Used by test/property/model_mutate_onnx.property.test.ts (a CI slice) and bench/model_fuzz.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { compileSource } from '../../src/compiler/index.js';
import { mulberry32 } from '../../src/random/index.js';
import { decodeModel, exportOnnx, ModelProto, torchvisionInit } from '../../src/targets/onnx/index.js';
import { TINY_FLATTEN_YAML } from '../parity/fixtures.js';
import type { Figures } from './model_fuzz.js';

const SENTINEL_WORD = 'SNTL';
const FRAME = /^\s{4}at |at .*\(node:internal|\.js:[0-9]/m;

export interface OnnxWorld {
  root: string;
  good: Uint8Array;
}

/** The good model (the tiny flatten net, torchvision init) and the sentinel beside its folder. */
export function makeOnnxWorld(root: string): OnnxWorld {
  mkdirSync(root, { recursive: true });
  const graph = compileSource(TINY_FLATTEN_YAML).graph!;
  writeFileSync(join(root, 'sentinel.bin'), Buffer.from(SENTINEL_WORD.repeat(5000)));
  return { root, good: exportOnnx(graph, torchvisionInit(graph, 3)).bytes };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

const DIMS = [0, 1, 2, 3, 8, -1, 30000, 2 ** 31, 2 ** 40, 2 ** 53];
/** TensorProto.DataType: undefined, float, uint8, int8, int32, int64, string, bool, float16, double, uint64, bfloat16, and out of range. */
const ELEM_TYPES = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 13, 16, 99];
const LOCATIONS = ['../sentinel.bin', '../../sentinel.bin', '/etc/passwd', '/proc/self/environ', '/dev/zero', 'fifo', 'link-out', 'link-zero', 'sub', 'nope.bin', '', '.', 'data.bin', 'sub/../../sentinel.bin'];
const OPS = ['Foo', 'Conv', 'Loop', 'If', '', 'Identity', 'Reshape', 'Expand', 'Tile', 'ConstantOfShape', 'Gemm', 'Relu', 'Scan'];
const INTS = [0, -1, 1, 2, 3, 1000, 2 ** 31, -(2 ** 31), 2 ** 40];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function mutateDims(r: Rand, vi: Json | undefined): void {
  const dims: Json[] | undefined = vi?.type?.tensor_type?.shape?.dim;
  if (!dims || dims.length === 0) return;
  const d = dims[int(r, dims.length)];
  if (r() < 0.2) {
    delete d.dim_value;
    d.dim_param = pick(r, ['N', 'batch', '']);
  } else {
    delete d.dim_param;
    d.dim_value = pick(r, DIMS);
  }
}

/** Mutates the decoded model in place; returns the external-data locations it wrote. */
function mutateModel(r: Rand, m: Json): string[] {
  const g = m.graph as Json;
  const inits: Json[] = g.initializer ?? [];
  const nodes: Json[] = g.node ?? [];
  const init = inits.length > 0 ? inits[int(r, inits.length)] : undefined;
  const node = nodes.length > 0 ? nodes[int(r, nodes.length)] : undefined;
  switch (int(r, 15)) {
    case 0:
      mutateDims(r, g.input?.[0]);
      break;
    case 1:
      mutateDims(r, g.output?.[0]);
      break;
    case 2:
      if (g.input?.[0]?.type?.tensor_type) g.input[0].type.tensor_type.elem_type = pick(r, ELEM_TYPES);
      break;
    case 3:
      if (g.output?.[0]?.type?.tensor_type) g.output[0].type.tensor_type.elem_type = pick(r, ELEM_TYPES);
      break;
    case 4:
      if (init) init.dims = r() < 0.5 ? [pick(r, DIMS)] : [...(init.dims ?? []), pick(r, DIMS)];
      break;
    case 5:
      if (init) init.data_type = pick(r, ELEM_TYPES);
      break;
    case 6:
      if (init?.raw_data) init.raw_data = (init.raw_data as Uint8Array).subarray(0, int(r, init.raw_data.length));
      break;
    case 7:
      // external data: in the folder, out of it, through links, at devices
      if (init) {
        const location = pick(r, LOCATIONS);
        delete init.raw_data;
        init.data_location = 1;
        init.external_data = [{ key: 'location', value: location }, { key: 'offset', value: String(pick(r, [0, 4, -1, 2 ** 40])) }, { key: 'length', value: String(pick(r, [4, 16, 20000, -1, 2 ** 40])) }];
        return [location];
      }
      break;
    case 8:
      if (node) node.op_type = pick(r, OPS);
      break;
    case 9: {
      const a: Json[] = node?.attribute ?? [];
      const at = a.length > 0 ? a[int(r, a.length)] : undefined;
      if (at?.ints) at.ints[int(r, at.ints.length)] = pick(r, INTS);
      else if (at && 'i' in at) at.i = pick(r, INTS);
      break;
    }
    case 10:
      if (node) {
        if (r() < 0.5) nodes.splice(nodes.indexOf(node), 1);
        else nodes.push({ ...node });
      }
      break;
    case 11:
      if (node?.input?.length) node.input[int(r, node.input.length)] = pick(r, ['missing', '', 'x', node.output?.[0] ?? 'y']);
      break;
    case 12:
      if (r() < 0.5) m.opset_import = [{ domain: '', version: pick(r, [1, 7, 17, 99, 10000]) }];
      else m.ir_version = pick(r, [0, 3, 8, 10, 99]);
      break;
    case 13:
      g.input = [...(g.input ?? []), { ...(g.input?.[0] ?? {}), name: pick(r, ['x2', g.input?.[0]?.name ?? 'x']) }];
      break;
    default:
      // an initializer as the graph's input too (a default the feed replaces), or none at all
      if (r() < 0.5 && init) g.input = [...(g.input ?? []), { name: init.name, type: { tensor_type: { elem_type: 1, shape: { dim: (init.dims ?? []).map((d: number) => ({ dim_value: d })) } } } }];
      else g.input = [];
      break;
  }
  return [];
}

function mutateBytes(r: Rand, b: Uint8Array): Uint8Array {
  const c = Buffer.from(b);
  switch (int(r, 3)) {
    case 0:
      return c.subarray(0, int(r, c.length + 1));
    case 1:
      return Buffer.concat([c, Buffer.from(Array.from({ length: 1 + int(r, 16) }, () => int(r, 256)))]);
    default:
      for (let i = 0; i < 1 + int(r, 8); i++) c[int(r, c.length)] = int(r, 256);
      return c;
  }
}

/** A mutated model's bytes and the external-data locations it names; mutations that break the encoding itself fall back to the good bytes. */
function mutant(r: Rand, good: Uint8Array): { bytes: Uint8Array; locations: string[] } {
  if (r() < 0.3) return { bytes: mutateBytes(r, good), locations: [] };
  const m = decodeModel(good) as unknown as Json;
  const locations: string[] = [];
  for (let k = 0, n = 1 + int(r, 3); k < n; k++) locations.push(...mutateModel(r, m));
  try {
    const bytes = ModelProto.encode(ModelProto.fromObject(m)).finish();
    return { bytes: r() < 0.1 ? mutateBytes(r, bytes) : bytes, locations };
  } catch {
    return { bytes: good, locations: [] };
  }
}

/** Whether a location, every link followed, is a regular file inside `dir` (the only external data a run may read). */
function readableInside(dir: string, location: string): boolean {
  try {
    const real = realpathSync(join(dir, location));
    return location !== '' && !location.startsWith('/') && real.startsWith(`${realpathSync(dir)}/`) && statSync(real).isFile();
  } catch {
    return false;
  }
}

/** The folder's extra entries external data may name: links out and in, a FIFO, a folder, a data file. */
function furnish(dir: string, root: string): void {
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(root, 'sentinel.bin'), join(dir, 'link-out'));
  symlinkSync('/dev/zero', join(dir, 'link-zero'));
  writeFileSync(join(dir, 'data.bin'), Buffer.alloc(64, 0x3f));
  // A FIFO with no writer blocks its reader forever (in onnxruntime's native code: the case
  // timer would never see it end), so this one fifo proves infer never opens it.
  execFileSync('mkfifo', [join(dir, 'fifo')]);
}

const leaked = (s: string) => s.includes(SENTINEL_WORD) || /root:x:0:0/.test(s);

/** Runs cases [from, to) of `seed` through `skipgraph infer`; adds to `f` (byTarget 'onnx'). */
export async function runOnnxCases(world: OnnxWorld, seed: number, from: number, to: number, f: Figures): Promise<void> {
  const work = join(world.root, 'onnx-case');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  furnish(work, world.root);
  const file = join(work, 'model.onnx');
  for (let i = from; i < to; i++) {
    const r = mulberry32(seed * 1_000_003 + i);
    f.byTarget.onnx = (f.byTarget.onnx ?? 0) + 1;
    const { bytes, locations } = mutant(r, world.good);
    writeFileSync(file, bytes);
    let out = '';
    let err = '';
    const io: Io = { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), color: false };
    const args = ['infer', file, '--runs', '0', '--threads', '1', '--max-tensor-bytes', '64MiB', '--batch', String(pick(r, [1, 2, 3]))];
    const t0 = performance.now();
    let code: number;
    try {
      code = await main(['node', 'skipgraph', ...args], io);
    } catch (e) {
      code = -1;
      err += e instanceof Error ? (e.stack ?? e.message) : String(e);
    }
    const ms = performance.now() - t0;
    f.maxMs = Math.max(f.maxMs, ms);
    if (code === 0) f.loaded++;
    else if (code === 1) {
      f.refused++;
      const key = err.split('\n')[0].replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N').slice(0, 90);
      f.messages.set(key, (f.messages.get(key) ?? 0) + 1);
    } else {
      f.uncaught++;
      if (f.failures.length < 50) f.failures.push(`case ${seed}/${i} (onnx): exit ${code}: ${err.slice(0, 600)}`);
    }
    const outside = locations.filter((l) => !readableInside(work, l));
    if (code === 0 && outside.length > 0) {
      f.outsideReads++;
      f.failures.push(`case ${seed}/${i} (onnx): ran with external data at ${JSON.stringify(outside)}`);
    }
    if (leaked(out + err)) {
      f.outsideReads++;
      f.failures.push(`case ${seed}/${i} (onnx): the output holds the sentinel or /etc/passwd: ${(out + err).slice(0, 300)}`);
    }
    if (code !== -1 && FRAME.test(out + err)) {
      f.traces++;
      f.failures.push(`case ${seed}/${i} (onnx): a stack frame in the output: ${(out + err).slice(0, 300)}`);
    }
    if (ms > 2000) {
      f.hangs++;
      f.failures.push(`case ${seed}/${i} (onnx): ${ms.toFixed(0)} ms`);
    }
    f.cases++;
  }
  rmSync(work, { recursive: true, force: true });
}
