/**
 * `skipgraph infer` on hostile or careless .onnx files (issue 22): every tensor sized from the
 * declared shapes before anything is allocated (--max-tensor-bytes), only float32 in and out,
 * onnxruntime's run errors as one line, --threads capped at the cores, printing bounded; and
 * `export --target onnx` refusing a model over protobuf's 2 GiB before drawing any weight.
 * Every case exits 0 or 1 with a message that says what to do, never 70 or a stack trace.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topK } from '../../../src/cli/commands/infer.js';
import { compileSource } from '../../../src/compiler/files.js';
import { protobufLimitProblem } from '../../../src/targets/onnx/index.js';
import { AttributeType, DataType, encodeModel, type Node, type Tensor } from '../../../src/targets/onnx/proto.js';
import { runCli } from '../../helpers/cli.js';
import { skipTestWithout } from '../../helpers/require.js';
import { loadOrt } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-onnx-infer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let ort: Awaited<ReturnType<typeof loadOrt>>;
beforeAll(async () => {
  ort = await loadOrt();
});

type Dims = (number | string)[];
interface Tiny {
  input: Dims;
  output: Dims;
  nodes: Node[];
  initializers?: Tensor[];
  inType?: number;
  outType?: number;
}

/** A hand-made model: one input "x", one output "y". */
function tinyModel(name: string, m: Tiny): string {
  const vi = (n: string, dims: Dims, t: number) => ({ name: n, type: { tensor_type: { elem_type: t, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } } });
  const bytes = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'test',
    producer_version: '',
    graph: { name, node: m.nodes, initializer: m.initializers ?? [], input: [vi('x', m.input, m.inType ?? DataType.FLOAT)], output: [vi('y', m.output, m.outType ?? DataType.FLOAT)], value_info: [] },
  });
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, bytes);
  return path;
}
const node = (op_type: string, input: string[], attribute: Node['attribute'] = []): Node => ({ name: op_type, op_type, input, output: ['y'], attribute });
const identity = (name: string, dims: Dims) => tinyModel(name, { input: dims, output: dims, nodes: [node('Identity', ['x'])] });
const int64s = (name: string, data: number[]): Tensor => ({ name, dims: [data.length], data_type: DataType.INT64, int64_data: data });

/** Exit 1, the message on stderr, no stack frame anywhere. */
function refused(r: { code: number; out: string; err: string }, ...parts: string[]): void {
  expect(r.code).toBe(1);
  for (const p of parts) expect(r.err).toContain(p);
  expect(r.err + r.out).not.toMatch(/^\s+at |\.js:\d+|internal error/m);
}

describe('infer: sizes from the declared shapes, before allocating', () => {
  it('a tiny file declaring a 30000x30000 input is refused at once with the size and the flag that raises the limit', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const file = identity('huge', ['N', 3, 30000, 30000]);
    const r = await runCli('infer', file, '--runs', '0');
    refused(r, 'input "x" [1, 3, 30000, 30000] 10.06 GiB', 'over the limit of 4.00 GiB', '--max-tensor-bytes 16GiB', 'or a smaller --batch');
    expect(r.out).toBe('');
  });

  it('--batch 1000000000 is refused with the bytes it would need; --max-tensor-bytes lowers and raises the limit', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const file = identity('small', ['N', 3, 4, 4]);
    refused(await runCli('infer', file, '--batch', '1000000000', '--runs', '0'), 'input "x" [1000000000, 3, 4, 4] 178.81 GiB', 'output "y" [1000000000, 3, 4, 4]');
    refused(await runCli('infer', file, '--max-tensor-bytes', '300', '--runs', '0'), 'needs 384 B', 'over the limit of 300 B');
    const ok = await runCli('infer', file, '--max-tensor-bytes', '384', '--runs', '0');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('output "y" [1, 3, 4, 4]');
  });

  it('an input file is checked against the limit from its header, before its data is read', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const { writeSafetensors } = await import('../../../src/formats/safetensors.js');
    const input = join(dir, 'x.safetensors');
    writeSafetensors(input, { input: { data: new Float32Array(2 * 3 * 4 * 4), shape: [2, 3, 4, 4] } });
    refused(await runCli('infer', identity('small2', ['N', 3, 4, 4]), '--input', input, '--max-tensor-bytes', '500'), 'input "input" [2, 3, 4, 4] 384 B', 'over the limit of 500 B', '--max-tensor-bytes');
  });

  it('a model with a fixed batch and another --batch: exit 1 naming the batch it takes', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    refused(await runCli('infer', identity('fixed', [2, 3, 4, 4]), '--runs', '0'), 'takes a batch of exactly 2', '--batch 2');
  });
});

describe('infer: float32 only, runtime errors mapped', () => {
  it('an int64 input or output: exit 1 saying infer takes float32', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const inInt = tinyModel('in64', { input: ['N', 4], output: ['N', 4], inType: DataType.INT64, outType: DataType.FLOAT, nodes: [node('Cast', ['x'], [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }])] });
    refused(await runCli('infer', inInt, '--runs', '0'), 'input "x" is int64', 'float32');
    const outInt = tinyModel('out64', { input: ['N', 4], output: ['N', 4], outType: DataType.INT64, nodes: [node('Cast', ['x'], [{ name: 'to', type: AttributeType.INT, i: DataType.INT64 }])] });
    refused(await runCli('infer', outInt, '--runs', '0'), 'output "y" is int64', 'float32');
  });

  it("an error of onnxruntime's at run time: exit 1, one line naming the model and the input", async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    // Reshape [N, 4] to [3]: loads, fails when it runs.
    const file = tinyModel('badreshape', { input: ['N', 4], output: [3], nodes: [node('Reshape', ['x', 'shape'])], initializers: [int64s('shape', [3])] });
    const r = await runCli('infer', file, '--runs', '0');
    refused(r, `onnxruntime cannot run ${file} on the input [1, 4]:`);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('a file that is not a model, or not a regular file: exit 1', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const file = join(dir, 'junk.onnx');
    writeFileSync(file, 'not a protobuf at all');
    refused(await runCli('infer', file), `${file} is not an ONNX model`);
    const fifo = join(dir, 'fifo.onnx');
    execFileSync('mkfifo', [fifo]);
    refused(await runCli('infer', fifo), `${fifo} is not a regular file`);
    refused(await runCli('infer', '/dev/zero'), '/dev/zero is not a regular file');
  });

  it('external data is read only from regular files in the model\'s folder: a link out, a FIFO, a device or ../ is refused before onnxruntime opens it', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const sub = join(dir, 'ext');
    mkdirSync(sub);
    writeFileSync(join(dir, 'outside.bin'), Buffer.alloc(16));
    writeFileSync(join(sub, 'w.bin'), Buffer.alloc(16));
    symlinkSync(join(dir, 'outside.bin'), join(sub, 'link-out'));
    execFileSync('mkfifo', [join(sub, 'fifo')]);
    const model = (location: string) => {
      const path = tinyModel(`ext-${location.replace(/\W/g, '_')}`, {
        input: ['N', 4],
        output: ['N', 4],
        nodes: [node('Add', ['x', 'w'])],
        initializers: [{ name: 'w', dims: [4], data_type: DataType.FLOAT, data_location: 1, external_data: [{ key: 'location', value: location }] }],
      });
      const inSub = join(sub, basename(path));
      renameSync(path, inSub);
      return inSub;
    };
    const ok = await runCli('infer', model('w.bin'), '--runs', '0');
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    for (const bad of ['link-out', 'fifo', '/dev/zero', '../outside.bin', 'nope.bin']) {
      refused(await runCli('infer', model(bad), '--runs', '0'), `keeps its data in ${JSON.stringify(bad)}, which is not a regular file in the model's folder`);
    }
  });
});

describe('infer: threads and printing bounded', () => {
  it('--threads 100000 runs on the cores there are, with a note', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const cores = availableParallelism();
    const r = await runCli('infer', identity('threads', ['N', 2]), '--threads', '100000', '--runs', '0');
    expect(r.code).toBe(0);
    expect(r.err).toContain(`note: --threads 100000 is more than this machine's ${cores} core`);
    expect(r.out).toContain(`${cores} intra-op thread`);
  });

  it('an output row of 5,000,000 values prints a bounded summary and says how to get every value', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'infer (onnxruntime)', ort);
    const n = 5_000_000;
    const file = tinyModel('wide', { input: ['N', 1], output: ['N', n], nodes: [node('Expand', ['x', 'shape'])], initializers: [int64s('shape', [1, n])] });
    const r = await runCli('infer', file, '--top', '1000000', '--runs', '0');
    expect(r.code).toBe(0);
    expect(r.out.length).toBeLessThan(10_000);
    expect(r.out).toContain('(--top shows at most 100 classes a sample)');
    expect(r.out).toContain(`every value: --out FILE.safetensors (${n} values)`);
    expect(r.out.match(/class \d+/g)).toHaveLength(100);
  });

  it('topK: the largest values, largest first, ties in index order, NaN never ranked', () => {
    const row = new Float32Array([0.5, NaN, 2, -Infinity, 2, 7, -1]);
    expect(topK(row, 3)).toEqual([[5, 7], [2, 2], [4, 2]]);
    expect(topK(row, 10).map(([c]) => c)).toEqual([5, 2, 4, 0, 6, 3]);
    expect(topK(row, 0)).toEqual([]);
    // The same order as a full stable sort, on random rows.
    for (let seed = 1; seed < 20; seed++) {
      const r = Float32Array.from({ length: 50 }, (_, i) => Math.round(Math.sin(seed * 97 + i * 13) * 5));
      const sorted = Array.from(r, (v, c) => [c, v] as [number, number]).sort((a, b) => b[1] - a[1]);
      expect(topK(r, 7)).toEqual(sorted.slice(0, 7));
    }
  });
});

describe("export --target onnx: protobuf's 2 GiB", () => {
  const DENSE = (units: number) => `
name: wide_dense
input: { height: 64, width: 64, channels: 3 }
classes: ${units}
stem:
  - { op: conv, filters: 3, kernel: 1 }
stages:
  - { block: basic, channels: 3, blocks: 1 }
head:
  - { op: flatten }
  - { op: dense, units: $classes }
`;

  it('a legal 602M-parameter dense model is refused up front, with the parameter count and the way out', async () => {
    const file = join(dir, 'wide_dense.yaml');
    writeFileSync(file, DENSE(49_000));
    const r = await runCli('export', file, '--target', 'onnx', '--out', join(dir, 'dense602m.onnx'));
    refused(r, "wide_dense's weights (parameters and batch-norm statistics) are 602,161,195 float32 values, 2.24 GiB", "protobuf's limit", 'does not write ONNX external data', '--target torch');
  });

  it('protobufLimitProblem: a model just under the limit passes, one just over does not', () => {
    const graph = (units: number) => compileSource(DENSE(units)).graph!;
    expect(protobufLimitProblem(graph(40_000))).toBeUndefined();
    expect(protobufLimitProblem(graph(43_000))).toMatch(/^wide_dense's weights \(parameters and batch-norm statistics\) are 528,\d{3},\d{3} float32 values/);
  });
});
