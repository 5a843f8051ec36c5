/**
 * Without onnxruntime-node (an optional dependency: npm may have left it out), `infer model.onnx`
 * says what is missing and how to get it, exit 1, and `infer DIR` (TF.js) still works; export
 * never needs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compileFile } from '../../../src/compiler/index.js';
import { serializeSafetensors } from '../../../src/targets/tfjs/weights/index.js';
import { runCli } from '../../helpers/cli.js';
import { randomWeights } from './helpers.js';

vi.mock('onnxruntime-node', () => {
  throw new Error("Cannot find package 'onnxruntime-node'");
});

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-onnx-noort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MNIST = 'architectures/mnist_resnet.yaml';

describe('without onnxruntime-node', () => {
  it('export works, infer model.onnx exits 1 saying how to install it, infer DIR runs on TF.js', async () => {
    const out = join(dir, 'm.onnx');
    const e = await runCli('export', MNIST, '--target', 'onnx', '--seed', '1', '--out', out);
    expect(e.code).toBe(0);
    const r = await runCli('infer', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: onnxruntime-node cannot be loaded');
    expect(r.err).toContain('npm install onnxruntime-node');
    expect(r.err).not.toContain('    at ');
    const graph = compileFile(MNIST).graph!;
    const sd = join(dir, 'w.safetensors');
    writeFileSync(sd, serializeSafetensors(randomWeights(graph, 2)));
    expect((await runCli('weights', 'import', MNIST, '--from', sd, '--out', join(dir, 'model'), '--backend', 'cpu')).code).toBe(0);
    const t = await runCli('infer', join(dir, 'model'), '--batch', '2', '--runs', '1', '--backend', 'cpu');
    expect(t.code).toBe(0);
    expect(t.out).toContain('TF.js');
    expect(t.out).toMatch(/sample 1: class \d/);
  });
});
