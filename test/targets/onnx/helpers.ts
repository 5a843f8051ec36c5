/**
 * Shared by the ONNX tests: weights with random batch-norm statistics (PyTorch layout), the
 * TF.js model with the same weights (loaded through the runtime's state_dict import, which does
 * its own layout conversion), onnxruntime-node, and Debian's onnx checker.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { compileFile, type CompiledGraph } from '../../../src/compiler/files.js';
import { splitmix32 as uniformSource } from '../../../src/random/index.js';
import { torchvisionInit } from '../../../src/targets/onnx/index.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { loadStateDict, parseSafetensors, serializeSafetensors } from '../../../src/targets/tfjs/weights/index.js';
export { maxRelDiff } from '../tfjs/helpers/model_io.js';

export type Weights = Map<string, { data: Float32Array; shape: number[] }>;

/** torchvision's init, then every batch norm and bias made random, so no part of the model is an identity. */
export function randomWeights(graph: CompiledGraph, seed: number): Weights {
  const w = torchvisionInit(graph, seed);
  const u = uniformSource(seed + 1000);
  for (const [key, t] of w) {
    const r = (lo: number, hi: number) => t.data.forEach((_, i) => (t.data[i] = lo + (hi - lo) * u()));
    if (key.endsWith('.running_var')) r(0.5, 2);
    else if (key.endsWith('.running_mean')) r(-0.5, 0.5);
    else if (graph.nodes.find((n) => n.id === key.slice(0, key.lastIndexOf('.')))?.op === 'bn') r(key.endsWith('.weight') ? 0.5 : -0.3, key.endsWith('.weight') ? 1.5 : 0.3);
  }
  return w;
}

/** A random NCHW batch. */
export function randomInput(graph: CompiledGraph, batch: number, seed: number): { data: Float32Array; dims: number[] } {
  const { height: h, width: w, channels: c } = graph.input;
  const u = uniformSource(seed);
  const data = new Float32Array(batch * c * h * w).map(() => 2 * u() - 1);
  return { data, dims: [batch, c, h, w] };
}

/** The TF.js model built from `graph` with these weights (the caller disposes it). */
export function tfjsModel(graph: CompiledGraph, weights: Weights): tf.LayersModel {
  const model = buildModel(graph, { probe: false });
  loadStateDict(model, graph, parseSafetensors(serializeSafetensors(weights), 'random weights'));
  return model;
}

/** The TF.js model's output for an NCHW batch (transposed to NHWC for it). */
export function tfjsForward(model: tf.LayersModel, x: { data: Float32Array; dims: number[] }): Float32Array {
  return tf.tidy(() => {
    const nhwc = tf.transpose(tf.tensor(x.data, x.dims), [0, 2, 3, 1]);
    return (model.predict(nhwc) as tf.Tensor).dataSync() as Float32Array;
  });
}

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | string | undefined;
/** onnxruntime-node, or why it cannot be loaded. */
export async function loadOrt(): Promise<Ort | string> {
  if (ortModule === undefined) {
    try {
      ortModule = await import('onnxruntime-node');
    } catch (e) {
      ortModule = `onnxruntime-node cannot be loaded (${(e as Error).message.split('\n')[0]})`;
    }
  }
  return ortModule;
}

/** Runs an ONNX model on onnxruntime's CPU provider; returns the output and its dims. */
export async function ortForward(ort: Ort, bytes: Uint8Array, x: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) });
    const y = out[session.outputNames[0]];
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await session.release();
  }
}

export const PYTHON = process.env.SKIPGRAPH_PYTHON ?? '/usr/bin/python3';

/** Whether Debian's onnx (the checker) imports; a reason to skip when it does not. */
export function checkerMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? undefined : `${PYTHON} cannot import onnx (apt-get install python3-onnx): ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`;
}

/**
 * onnx.checker.check_model(full_check=True) on every file, in one Python process; returns
 * file -> 'ok' or the checker's message.
 */
export function runChecker(files: string[]): Map<string, string> {
  const script = [
    'import json, sys, onnx',
    'out = {}',
    'for f in json.load(sys.stdin):',
    '    try:',
    '        onnx.checker.check_model(onnx.load(f), full_check=True)',
    "        out[f] = 'ok'",
    '    except Exception as e:',
    '        out[f] = type(e).__name__ + ": " + str(e)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(files), encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`the checker failed: ${r.stderr}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>));
}

export const SMALL = 32;
/** max |onnxruntime - reference| / max |reference| over the outputs. */
export const TOLERANCE = 1e-4;

/** An architecture file at a small input (the CIFAR and MNIST nets keep their own). */
export function compileSmall(name: string): CompiledGraph {
  const small = !/^(cifar|mnist)/.test(name);
  const r = compileFile(join('architectures', `${name}.yaml`), { sets: small ? [`input.height=${SMALL}`, `input.width=${SMALL}`] : [] });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

export const MIXED_YAML = `
name: mixed
input: { height: 15, width: 15, channels: 3 }
classes: 5
shortcut: avgdown
stem:
  - { op: conv, filters: 8, kernel: 3, stride: 1 }
  - { op: bn }
  - { op: relu }
  - { op: maxpool, kernel: 3, stride: 2, padding: 1 }
stages:
  - { block: bottleneck, channels: 8, blocks: 2, stride: 2, groups: 2, width_per_group: 8, se: true }
  - { block: basic, channels: 48, blocks: 1, stride: 2, shortcut: zeropad }
  - { block: preact_basic, channels: 48, blocks: 1, stride: 1 }
head:
  - { op: global_avg_pool }
  - { op: dropout, rate: 0.2 }
  - { op: dense, units: $classes }
`;

