/**
 * `skipgraph export --target onnx` and `skipgraph infer` through the real command line: the
 * properties the written file must have (opset 17, IR 8, NCHW with a dynamic batch, explicit
 * pads, Gemm head, group attribute, avgdown's ceil pool without padding counted, option-A
 * Slice + Pad, BatchNormalization or folded, names and doc strings from the YAML), each weight
 * source, and bad input (another architecture, wrong shapes, conflicting flags).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/files.js';
import { decodeModel, paramSpecs, type Model } from '../../../src/targets/onnx/index.js';
import { openSafetensors, serializeSafetensors, writeSafetensors } from '../../../src/targets/tfjs/weights/index.js';
import { runCli } from '../../helpers/cli.js';
import { skipTestWithout } from '../../helpers/require.js';
import { loadOrt, maxRelDiff, MIXED_YAML, ortForward, randomInput, randomWeights } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-onnx-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MIXED = join(dir, 'mixed.yaml');
const CIFAR = 'architectures/cifar_resnet20.yaml';
let ort: Awaited<ReturnType<typeof loadOrt>>;

beforeAll(async () => {
  writeFileSync(MIXED, MIXED_YAML);
  ort = await loadOrt();
});

async function exported(file: string, ...flags: string[]): Promise<{ model: Model; bytes: Uint8Array; out: string }> {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.onnx`);
  const r = await runCli('export', file, '--target', 'onnx', '--out', path, ...flags);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const bytes = readFileSync(path);
  return { model: decodeModel(bytes), bytes, out: r.out };
}

const attr = (model: Model, node: string, name: string) => model.graph.node.find((n) => n.name === node)!.attribute.find((a) => a.name === name);

describe('export --target onnx: the file', () => {
  it('opset 17, IR 8, NCHW input with a dynamic batch, names from the graph, doc strings with file and line', async () => {
    const { model, out } = await exported(MIXED, '--seed', '3');
    expect(out).toMatch(/ONNX opset 17, IR 8, \d+ nodes, \d+ initializers, weights from torchvision's initialisation, seed 3/);
    expect(out).toContain('input "input" [batch, 3, 15, 15] (NCHW), output "fc" [batch, 5]');
    expect(model.ir_version).toBe(8);
    expect(model.opset_import).toEqual([{ domain: '', version: 17 }]);
    const dims = (v: Model['graph']['input'][number]) => v.type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value);
    expect(dims(model.graph.input[0])).toEqual(['batch', 3, 15, 15]);
    expect(dims(model.graph.output[0])).toEqual(['batch', 5]);
    const graph = compileFile(MIXED).graph!;
    // Every compiled node is an ONNX node of the same name; every parameter an initializer with its state_dict name.
    const names = new Set(model.graph.node.map((n) => n.name));
    for (const n of graph.nodes.slice(1)) expect(names).toContain(n.id);
    const inits = new Set(model.graph.initializer.map((t) => t.name));
    for (const s of paramSpecs(graph)) expect(inits).toContain(s.key);
    const conv = model.graph.node.find((n) => n.name === 'layer1.0.conv2')!;
    const line = graph.nodes.find((n) => n.id === 'layer1.0.conv2')!.loc.line;
    expect(conv.doc_string).toBe(`${MIXED}:${line}:${graph.nodes.find((n) => n.id === 'layer1.0.conv2')!.loc.col} layer1.0 (main path)`);
    expect(line).toBeGreaterThan(0);
    // The weight is OIHW (PyTorch's), the graph is not transposed: Conv reads the NCHW input directly.
    const w = model.graph.initializer.find((t) => t.name === 'layer1.0.conv2.weight')!;
    const c2 = graph.nodes.find((n) => n.id === 'layer1.0.conv2')!;
    const wc = c2.attrs as { filters: number; groups: number };
    const inC = graph.nodes.find((n) => n.id === c2.inputs[0])!.shape[2];
    expect(wc.groups).toBe(2);
    expect(w.dims).toEqual([wc.filters, inC / 2, 3, 3]);
    expect(model.graph.node.some((n) => n.op_type === 'Transpose')).toBe(false);
  });

  it('explicit pads, the group attribute, Gemm for the head, avgdown ceil_mode=1 count_include_pad=0, option A as Slice + Pad', async () => {
    const { model } = await exported(MIXED);
    expect(attr(model, 'conv1', 'pads')!.ints).toEqual([1, 1, 1, 1]);
    expect(attr(model, 'maxpool', 'pads')!.ints).toEqual([1, 1, 1, 1]);
    expect(attr(model, 'layer1.0.conv2', 'group')!.i).toBe(2);
    const fc = model.graph.node.find((n) => n.name === 'fc')!;
    expect(fc.op_type).toBe('Gemm');
    expect(attr(model, 'fc', 'transB')!.i).toBe(1);
    const pool = model.graph.node.find((n) => n.name === 'layer1.0.downsample.0')!;
    expect(pool.op_type).toBe('AveragePool');
    expect(attr(model, pool.name, 'ceil_mode')!.i).toBe(1);
    expect(attr(model, pool.name, 'count_include_pad')!.i).toBe(0);
    const ops = model.graph.node.map((n) => n.op_type);
    expect(ops).toContain('Slice');
    expect(ops.filter((o) => o === 'Pad').length).toBeGreaterThan(0);
    expect(ops).toContain('BatchNormalization');
  });

  it('--fold: the batch norms after convs are gone (the pre-activation ones stay), outputs unchanged', async (ctx) => {
    const plain = await exported(MIXED, '--seed', '1');
    const folded = await exported(MIXED, '--seed', '1', '--fold');
    expect(folded.out).toMatch(/folded \d+ batch norms into their convs/);
    const count = (m: Model) => m.graph.node.filter((n) => n.op_type === 'BatchNormalization').length;
    expect(count(folded.model)).toBeLessThan(count(plain.model));
    expect(count(folded.model)).toBeGreaterThan(0); // preact_basic's bn1 follows an add, not a conv
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnx cli outputs', ort);
    const graph = compileFile(MIXED).graph!;
    const x = randomInput(graph, 2, 9);
    const [a, b] = [await ortForward(ort, plain.bytes, x), await ortForward(ort, folded.bytes, x)];
    expect(maxRelDiff(b.data, a.data)).toBeLessThan(1e-5);
  });
});

describe('export --target onnx: weight sources', () => {
  it('--weights (torchvision names) and --model (the same weights imported into TF.js) give the same outputs', async (ctx) => {
    const graph = compileFile(CIFAR).graph!;
    const sd = join(dir, 'cifar.safetensors');
    writeFileSync(sd, serializeSafetensors(randomWeights(graph, 4)));
    const saved = join(dir, 'cifar-model');
    const imp = await runCli('weights', 'import', CIFAR, '--from', sd, '--out', saved, '--backend', 'cpu');
    expect(imp.code).toBe(0);
    const fromWeights = await exported(CIFAR, '--weights', sd);
    const fromModel = await exported(CIFAR, '--model', saved);
    expect(fromModel.out).toContain(`weights from the model in ${saved}`);
    // Same initializers, value for value (the TF.js layouts were transposed back).
    const init = (m: Model) => new Map(m.graph.initializer.map((t) => [t.name, Buffer.from(t.raw_data ?? []).toString('base64')]));
    expect(init(fromModel.model)).toEqual(init(fromWeights.model));
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnx cli outputs', ort);
    const x = randomInput(graph, 3, 2);
    const [a, b] = [await ortForward(ort, fromWeights.bytes, x), await ortForward(ort, fromModel.bytes, x)];
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('weights of another architecture: exit 1, every missing and unexpected tensor named', async () => {
    const graph = compileFile(CIFAR).graph!;
    const sd = join(dir, 'cifar20.safetensors');
    writeFileSync(sd, serializeSafetensors(randomWeights(graph, 1)));
    const r = await runCli('export', 'architectures/cifar_resnet56.yaml', '--target', 'onnx', '--weights', sd, '--out', join(dir, 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${sd} does not fit cifar_resnet56:`);
    expect(r.err).toMatch(/tensors missing:\n\s+layer1\.3\.conv1\.weight \[16, 16, 3, 3\]/);
    expect(r.err).not.toContain('    at '); // no stack trace
  });

  it('a tensor of the wrong shape: exit 1, the tensor and both shapes named', async () => {
    const graph = compileFile(CIFAR).graph!;
    const w = randomWeights(graph, 1);
    w.set('fc.weight', { data: new Float32Array(11 * 64), shape: [11, 64] });
    const sd = join(dir, 'bad.safetensors');
    writeSafetensors(sd, w);
    const r = await runCli('export', CIFAR, '--target', 'onnx', '--weights', sd, '--out', join(dir, 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('1 tensor of the wrong shape:\n    fc.weight: [11, 64], the model needs [10, 64]');
  });

  it('a saved model of another architecture: exit 1', async () => {
    const r = await runCli('export', 'architectures/cifar_resnet56.yaml', '--target', 'onnx', '--model', join(dir, 'cifar-model'), '--out', join(dir, 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is not cifar_resnet56|does not fit|cifar_resnet56/);
    expect(r.err).not.toContain('    at ');
  });

  it('two weight sources, or no --out: exit 2', async () => {
    const two = await runCli('export', CIFAR, '--target', 'onnx', '--seed', '1', '--weights', 'w.safetensors', '--out', join(dir, 'x.onnx'));
    expect(two.code).toBe(2);
    expect(two.err).toContain('give at most one of --model, --weights and --seed');
    const noOut = await runCli('export', CIFAR, '--target', 'onnx');
    expect(noOut.code).toBe(2);
    expect(noOut.err).toContain('--target onnx needs --out model.onnx');
  });
});

describe('infer', () => {
  it('an .onnx file on onnxruntime (thread count shown) and the TF.js folder give the same logits', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnx cli outputs', ort);
    const graph = compileFile(CIFAR).graph!;
    const x = randomInput(graph, 2, 5);
    const input = join(dir, 'input.safetensors');
    writeSafetensors(input, { input: { data: x.data, shape: x.dims } });
    const onnxFile = join(dir, 'cifar.onnx');
    expect((await runCli('export', CIFAR, '--target', 'onnx', '--weights', join(dir, 'cifar.safetensors'), '--out', onnxFile)).code).toBe(0);
    const a = await runCli('infer', onnxFile, '--input', input, '--threads', '2', '--runs', '1', '--out', join(dir, 'a.safetensors'));
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toContain('CPU provider, 2 intra-op threads');
    expect(a.out).toContain('output "fc" [2, 10]');
    expect(a.out).toMatch(/sample 1: class \d+ -?\d\.\d{4}/);
    const b = await runCli('infer', join(dir, 'cifar-model'), '--input', input, '--runs', '1', '--backend', 'cpu', '--out', join(dir, 'b.safetensors'));
    expect(b.code).toBe(0);
    expect(b.out).toContain('TF.js');
    const read = (f: string) => {
      const s = openSafetensors(f);
      const d = s.float32('output');
      s.close();
      return d;
    };
    expect(maxRelDiff(read(join(dir, 'a.safetensors')), read(join(dir, 'b.safetensors')))).toBeLessThan(1e-4);
  });

  it('an input of the wrong size: exit 1 with both shapes', async (ctx) => {
    if (typeof ort === 'string') return skipTestWithout(ctx, 'onnx cli outputs', ort);
    const input = join(dir, 'wrong.safetensors');
    writeSafetensors(input, { input: { data: new Float32Array(3 * 8 * 8), shape: [1, 3, 8, 8] } });
    const r = await runCli('infer', join(dir, 'cifar.onnx'), '--input', input);
    expect(r.code).toBe(1);
    expect(r.err).toContain('is [1, 3, 8, 8] but the model takes [N, 3, 32, 32] (NCHW)');
  });
});
