/**
 * Without onnxruntime-node (an optional peer: `npm install skipgraph` leaves it out), `infer model.onnx`
 * says what is missing and how to get it, exit 1, and `infer DIR` (TF.js) still works; export
 * never needs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compileFile } from '../../../src/compiler/files.js';
import { serializeSafetensors } from '../../../src/targets/tfjs/weights/index.js';
import { runCli } from '../../helpers/cli.js';
import { randomWeights } from './helpers.js';

vi.mock('onnxruntime-node', () => {
  throw Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from skipgraph"), { code: 'ERR_MODULE_NOT_FOUND' });
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
    expect(r.err).toContain('error: running an ONNX file needs onnxruntime-node, an optional peer of skipgraph that is not installed');
    expect(r.err).toContain('\n    ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1');
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
