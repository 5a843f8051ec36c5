/**
 * Training in a web worker: compiles the text (public API), builds the TF.js model with
 * skipgraph's runtime builder, picks the fastest backend by a quick probe (WebGPU, WebGL, wasm) and trains
 * on the bundled digits one batch at a time, so it can stop and resume between steps.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { compileSource } from '../../src/compiler/index.js';
import { formatDiagnostic } from '../../src/parser/index.js';
import { playgroundFiles } from './files.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { installFastKernels } from '../../src/targets/tfjs/kernels/install.js';
import { medianTime } from '../../src/targets/tfjs/measure.js';
import { logitsCrossEntropy } from '../../src/targets/tfjs/train/optimizer.js';
import type { TrainControl, TrainEvent, TrainRequest } from './protocol.js';

const send = (e: TrainEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);

/** MNIST's normalisation, as the CLI's data loader uses it (torchvision's 0.1307 / 0.3081). */
const MEAN = 0.1307;
const STD = 0.3081;

interface Digits {
  count: number;
  labels: Uint8Array;
  pixels: Float32Array; // normalised, count x 784
}

let model: tf.LayersModel | undefined;
let digits: Digits | undefined;
let step = 0;
let target = 0;
let running = false;
let stopRequested = false;
let batch = 32;
let heldOut = 0;

/**
 * The backend to train on: each candidate that starts (WebGPU with an adapter, WebGL with an
 * OffscreenCanvas, wasm) runs a small convolution once to warm up and then PROBE_RUNS times, and
 * the fastest wins. Preferring the GPU backends blindly picked WebGL in headless chromium without
 * a GPU (SwiftShader: 2.7 s a step, where wasm took 0.16 s). `forced` (?backend=) skips the probe.
 */
async function pickBackend(forced?: string): Promise<{ backend: string; tried: string[]; probes: { backend: string; ms: number }[] }> {
  setWasmPaths(new URL('./', self.location.href).href);
  const tried: string[] = [];
  const probes: { backend: string; ms: number }[] = [];
  for (const b of forced ? [forced] : ['webgpu', 'webgl', 'wasm']) {
    const why = await startBackend(b);
    if (why !== undefined) {
      tried.push(`${b}: ${why}`);
      continue;
    }
    if (forced) return { backend: b, tried, probes };
    probes.push({ backend: b, ms: await probe() });
  }
  if (probes.length === 0) throw new Error(`no TF.js backend started (${tried.join('; ')})`);
  const best = probes.reduce((a, p) => (p.ms < a.ms ? p : a));
  if ((await startBackend(best.backend)) !== undefined) throw new Error(`${best.backend} started once and then failed`);
  return { backend: best.backend, tried, probes };
}

/** Starts backend `b` with the runtime's composed kernels; undefined, or why it cannot run. */
async function startBackend(b: string): Promise<string | undefined> {
  if (b === 'webgpu') {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu || !(await gpu.requestAdapter().catch(() => null))) return 'no adapter';
  }
  if (b === 'webgl' && typeof OffscreenCanvas === 'undefined') return 'no OffscreenCanvas in workers';
  try {
    if (!(await tf.setBackend(b))) return 'could not start';
    await tf.ready();
    // A backend can initialise and still fail its first kernel (webgl without a GPU context).
    const one = tf.add(tf.scalar(1), tf.scalar(1));
    await one.data();
    one.dispose();
    // The runtime's composed kernels: stock wasm has no Conv2DBackpropFilter (the CLI installs the same).
    installFastKernels(b);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Timed runs of the probe (after one warm-up run, which compiles shaders). */
const PROBE_RUNS = 3;

/**
 * Median milliseconds of a 3x3 convolution of 8x28x28x16 to 16 channels with its ReLU (about 14.5
 * million multiply-adds, the size of one layer of mnist_resnet at batch 8), read back.
 */
async function probe(): Promise<number> {
  const x = tf.randomNormal([8, 28, 28, 16], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 16, 16], 0, 0.1, 'float32', 2) as tf.Tensor4D;
  const ms = await medianTime(async () => {
    const y = tf.tidy(() => tf.relu(tf.conv2d(x, w, 1, 'same')).sum());
    await y.data();
    y.dispose();
  }, PROBE_RUNS);
  tf.dispose([x, w]);
  return ms;
}

async function loadDigits(): Promise<Digits> {
  const res = await fetch(new URL('./digits.bin', self.location.href));
  const buf = new Uint8Array(await res.arrayBuffer());
  const count = new DataView(buf.buffer).getUint32(0, true);
  const labels = buf.slice(4, 4 + count);
  const raw = buf.subarray(4 + count, 4 + count + count * 784);
  const pixels = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) pixels[i] = (raw[i] / 255 - MEAN) / STD;
  return { count, labels, pixels };
}

/** Inputs and one-hot labels of samples [from, from + n) (wrapping inside the training part). */
function batchOf(from: number, n: number, trainCount: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const d = digits!;
  const xs = new Float32Array(n * 784);
  const ys = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const k = (from + i) % trainCount;
    xs.set(d.pixels.subarray(k * 784, (k + 1) * 784), i * 784);
    ys[i * 10 + d.labels[k]] = 1;
  }
  return { x: tf.tensor4d(xs, [n, 28, 28, 1]), y: tf.tensor2d(ys, [n, 10]) };
}

function heldOutSet(): { x: tf.Tensor4D; labels: Uint8Array } {
  const d = digits!;
  const from = d.count - heldOut;
  return { x: tf.tensor4d(d.pixels.slice(from * 784), [heldOut, 28, 28, 1]), labels: d.labels.slice(from) };
}

async function run(): Promise<void> {
  running = true;
  stopRequested = false;
  const trainCount = digits!.count - heldOut;
  let last = performance.now();
  while (step < target && !stopRequested) {
    const { x, y } = batchOf((step * batch) % trainCount, batch, trainCount);
    const [loss, acc] = (await model!.trainOnBatch(x, y)) as number[];
    tf.dispose([x, y]);
    step++;
    const now = performance.now();
    send({ type: 'step', step, loss, accuracy: acc, msPerStep: now - last });
    last = now;
    if (step % 50 === 0 || step === target) await evaluateHeldOut();
    // Let stop/export messages in between steps.
    await new Promise((r) => setTimeout(r, 0));
  }
  running = false;
  send(step >= target ? { type: 'done', step } : { type: 'paused', step });
}

/** Reads back with `await data()`: a synchronous read of a GPU tensor stalls the worker (and throws in Node). */
async function evaluateHeldOut(): Promise<void> {
  const { x, labels } = heldOutSet();
  const argmax = tf.tidy(() => (model!.predict(x) as tf.Tensor).argMax(-1));
  const pred = await argmax.data();
  tf.dispose([x, argmax]);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) right++;
  send({ type: 'eval', step, accuracy: right / labels.length });
}

async function start(req: TrainRequest): Promise<void> {
  const { backend, tried, probes } = await pickBackend(req.backend);
  send({ type: 'backend', backend, tried, probes });
  const r = compileSource(req.text, { file: req.file, sets: req.sets, extendsRoot: '/', files: playgroundFiles });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => formatDiagnostic(d, { sources: r.sources })).join('\n') || 'the architecture does not compile');
  const g = r.graph;
  if (g.kind !== 'classifier') throw new Error(`${g.name} is a backbone (features: ${g.features.map((f) => f.name).join(', ')}): it returns feature maps, not class scores; train a classifier (a head and classes)`);
  if (g.input.height !== 28 || g.input.width !== 28 || g.input.channels !== 1 || g.classes !== 10) {
    throw new Error(`the bundled digits are 28x28x1 with 10 classes; ${g.name} takes ${g.input.height}x${g.input.width}x${g.input.channels} with ${g.classes} classes (try mnist_resnet)`);
  }
  digits ??= await loadDigits();
  heldOut = Math.floor(digits.count / 5);
  send({ type: 'data', train: digits.count - heldOut, heldOut });
  const t0 = performance.now();
  model?.dispose();
  model = buildModel(g, { seed: 0 });
  model.compile({ optimizer: tf.train.adam(req.lr), loss: logitsCrossEntropy, metrics: ['acc'] });
  send({ type: 'built', name: g.name, params: model.countParams(), ms: performance.now() - t0 });
  step = 0;
  batch = req.batch;
  target = req.steps;
  await run();
}

async function exportModel(): Promise<void> {
  await model!.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      // The same files as the CLI's saveModel: model.json naming ./weights.bin.
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      send({ type: 'exported', modelJson: JSON.stringify(modelJson), weights }, [weights]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

async function predict(count: number): Promise<void> {
  const d = digits!;
  const from = d.count - heldOut;
  const n = Math.min(count, heldOut);
  const x = tf.tensor4d(d.pixels.slice(from * 784, (from + n) * 784), [n, 28, 28, 1]);
  const y = model!.predict(x) as tf.Tensor;
  const out = (await y.array()) as number[][];
  y.dispose();
  const inputs = Array.from({ length: n }, (_, i) => Array.from(d.pixels.subarray((from + i) * 784, (from + i + 1) * 784)));
  tf.dispose(x);
  send({ type: 'predictions', inputs, outputs: out });
}

self.onmessage = (e: MessageEvent<TrainRequest | TrainControl>) => {
  const m = e.data;
  const guard = (p: Promise<void> | void) => Promise.resolve(p).catch((err) => send({ type: 'error', message: (err as Error).message ?? String(err) }));
  if (m.type === 'train') void guard(start(m));
  else if (m.type === 'stop') stopRequested = true;
  else if (m.type === 'resume') {
    if (model && !running) {
      target = step + m.steps;
      void guard(run());
    }
  } else if (m.type === 'export') {
    if (model) void guard(exportModel());
  } else if (m.type === 'predict') {
    if (model && !running) void guard(predict(m.count));
  }
};
