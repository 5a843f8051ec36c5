/**
 * `skipgraph infer MODEL --input ...`: inference on the CPU. MODEL is an .onnx file (run with
 * onnxruntime-node's CPU provider, its intra-op thread count shown) or a saved skipgraph TF.js
 * model folder (run with TF.js's best backend). The input is a safetensors file holding one NCHW
 * float tensor (named "input", or the only one), or `random` (uniform in [-1, 1], --batch
 * samples). onnxruntime-node is an optional dependency: without it an .onnx model gets a clear
 * message and the TF.js path still works.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { EXIT, InputError, parsePositiveInt, type Io } from '../io.js';
import { readingSavedModel, userInput, userInputAsync } from './saved_model.js';

interface InferFlags {
  input: string;
  batch: number;
  threads?: number;
  runs: number;
  top: number;
  out?: string;
  backend?: string;
  seed: number;
}

interface Batch {
  data: Float32Array;
  dims: number[];
}

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node, or an input error that says how to get it. */
export async function loadOnnxRuntime(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new InputError(
      `onnxruntime-node cannot be loaded (${(e as Error).message.split('\n')[0]}).\n` +
        `  It is an optional dependency of skipgraph: install it with \`npm install onnxruntime-node\`.\n` +
        `  TF.js inference needs no extra package: export or train a TF.js model and run \`skipgraph infer DIR\`.`,
    );
  }
}

/** A random batch in [-1, 1] (a small seeded generator: reproducible across runs and runtimes). */
function randomBatch(dims: number[], seed: number): Batch {
  let s = seed >>> 0;
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296) * 2 - 1;
  }
  return { data, dims };
}

async function readInput(path: string, chw: number[] | undefined): Promise<Batch> {
  const { openSafetensors } = await import('../../formats/safetensors.js');
  return userInput(() => {
    const src = openSafetensors(path);
    try {
      const names = [...src.header.tensors.keys()];
      const name = names.includes('input') ? 'input' : names.length === 1 ? names[0] : undefined;
      if (name === undefined) throw new InputError(`${path} holds ${names.length} tensors (${names.slice(0, 5).join(', ')}); name the input tensor "input"`);
      const dims = [...src.header.tensors.get(name)!.shape];
      if (dims.length !== 4) throw new InputError(`${path}: tensor "${name}" is [${dims.join(', ')}]; the input is a batch of images, [N, C, H, W]`);
      if (chw !== undefined && chw.some((d, i) => d > 0 && d !== dims[i + 1])) {
        throw new InputError(`${path}: tensor "${name}" is [${dims.join(', ')}] but the model takes [N, ${chw.join(', ')}] (NCHW)`);
      }
      return { data: src.float32(name), dims };
    } finally {
      src.close();
    }
  });
}

const ms = (t: number) => `${t.toFixed(t < 10 ? 2 : 1)} ms`;

function printOutputs(io: Io, y: Float32Array, dims: readonly number[], top: number): void {
  const [n, k] = [dims[0], dims.slice(1).reduce((a, b) => a * b, 1)];
  for (let i = 0; i < Math.min(n, 16); i++) {
    const row = Array.from(y.subarray(i * k, (i + 1) * k));
    const best = row.map((v, c) => [c, v] as const).sort((a, b) => b[1] - a[1]).slice(0, Math.min(top, k));
    io.out(`  sample ${i}: ${best.map(([c, v]) => `class ${c} ${v.toFixed(4)}`).join(', ')}`);
  }
  if (n > 16) io.out(`  ... (${n - 16} more samples)`);
}

async function write(path: string, y: Float32Array, dims: readonly number[]): Promise<void> {
  const { writeSafetensors } = await import('../../formats/safetensors.js');
  userInput(() => writeSafetensors(path, { output: { shape: [...dims], data: y } }));
}

async function inferOnnx(model: string, flags: InferFlags, io: Io): Promise<void> {
  const ort = await loadOnnxRuntime();
  const threads = flags.threads ?? Math.min(availableParallelism(), 8);
  let session: Awaited<ReturnType<Ort['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new InputError(`onnxruntime cannot load ${model}: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const meta = session.inputMetadata[0];
    const shape = meta?.isTensor ? meta.shape : undefined;
    const chw = shape?.slice(1).map((d) => (typeof d === 'number' ? d : -1));
    const x = flags.input === 'random' ? (chw?.every((d) => d > 0) ? randomBatch([flags.batch, ...chw], flags.seed) : undefined) : await readInput(flags.input, chw);
    if (x === undefined) throw new InputError(`${model}'s input has no fixed image size ([${shape?.join(', ')}]): give --input FILE.safetensors`);
    io.out(`onnxruntime-node ${ort.env.versions.node ?? ''}, CPU provider, ${threads} intra-op thread${threads === 1 ? '' : 's'}: ${model}, input "${session.inputNames[0]}" [${x.dims.join(', ')}]`);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
    let out = await session.run(feeds); // the first run also warms up
    const times: number[] = [];
    for (let r = 0; r < flags.runs; r++) {
      const t0 = performance.now();
      out = await session.run(feeds);
      times.push(performance.now() - t0);
    }
    const y = out[session.outputNames[0]];
    report(io, times, x.dims[0]);
    io.out(`output "${session.outputNames[0]}" [${y.dims.join(', ')}]`);
    printOutputs(io, y.data as Float32Array, y.dims, flags.top);
    if (flags.out) await write(flags.out, y.data as Float32Array, y.dims);
  } finally {
    await session.release();
  }
}

function report(io: Io, times: number[], batch: number): void {
  if (times.length === 0) return;
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  io.out(`${times.length} run${times.length === 1 ? '' : 's'} after a warm-up: median ${ms(median)} a batch, ${(batch / (median / 1000)).toFixed(1)} images/s`);
}

async function inferTfjs(dir: string, flags: InferFlags, io: Io): Promise<void> {
  const [tf, { selectBackend, describeBackend }, { loadModel }] = await Promise.all([
    import('@tensorflow/tfjs'),
    import('../../targets/tfjs/backend.js'),
    import('../../targets/tfjs/io/model_files.js'),
    import('../../targets/tfjs/index.js'), // registers skipgraph's layers for loading
  ]);
  const backend = await userInputAsync(() => selectBackend({ force: flags.backend, forceSource: '--backend' }));
  const model = await readingSavedModel(dir, () => loadModel(dir));
  try {
    const [, h, w, c] = model.inputs[0].shape as number[];
    const x = flags.input === 'random' ? randomBatch([flags.batch, c, h, w], flags.seed) : await readInput(flags.input, [c, h, w]);
    io.out(`TF.js ${describeBackend(backend)[0].replace(/^backend: /, '')}: ${dir}, input [${x.dims.join(', ')}] (NCHW, given to TF.js as NHWC)`);
    const nhwc = tf.tidy(() => tf.transpose(tf.tensor(x.data, x.dims), [0, 2, 3, 1]));
    const run = () => tf.tidy(() => model.predict(nhwc) as import('@tensorflow/tfjs').Tensor);
    let y = run();
    await y.data();
    const times: number[] = [];
    for (let r = 0; r < flags.runs; r++) {
      y.dispose();
      const t0 = performance.now();
      y = run();
      await y.data();
      times.push(performance.now() - t0);
    }
    report(io, times, x.dims[0]);
    const data = (await y.data()) as Float32Array;
    io.out(`output [${y.shape.join(', ')}]`);
    printOutputs(io, data, y.shape, flags.top);
    if (flags.out) await write(flags.out, data, y.shape);
    y.dispose();
    nhwc.dispose();
  } finally {
    model.dispose();
  }
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('infer')
    .description('run a model on the CPU: an .onnx file with onnxruntime-node, or a saved TF.js model folder')
    .argument('<model>', 'model.onnx (from export --target onnx) or a folder with model.json and weights.bin')
    .option('--input <file|random>', 'a safetensors file with one NCHW float tensor ("input"), or random', 'random')
    .option('--batch <n>', 'samples in a random input', parsePositiveInt('--batch'), 1)
    .option('--threads <n>', "onnxruntime's intra-op threads (default: the CPUs, at most 8)", parsePositiveInt('--threads'))
    .option('--runs <n>', 'timed runs after the warm-up', (v: string) => (v === '0' ? 0 : parsePositiveInt('--runs')(v)), 3)
    .option('--top <k>', 'classes printed per sample', parsePositiveInt('--top'), 5)
    .option('--seed <n>', 'seed of a random input', parsePositiveInt('--seed'), 1)
    .option('--out <file.safetensors>', 'also write the outputs (tensor "output")')
    .option('--backend <name>', 'TF.js backend for a model folder (default: the best available)')
    .action(async (model: string, flags: InferFlags) => {
      const { existsSync, statSync } = await import('node:fs');
      if (!existsSync(model)) throw new InputError(`${model} does not exist: give an .onnx file or a saved model folder`);
      if (statSync(model).isDirectory()) await inferTfjs(model, flags, io);
      else await inferOnnx(model, flags, io);
      setExit(EXIT.ok);
    });
}
