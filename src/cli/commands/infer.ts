/**
 * `skipgraph infer MODEL --input ...`: inference on the CPU. MODEL is an .onnx file (run with
 * onnxruntime-node's CPU provider, its intra-op thread count shown) or a saved skipgraph TF.js
 * model folder (run with TF.js's best backend). The input is a safetensors file holding one NCHW
 * float tensor (named "input", or the only one), or `random` (uniform in [-1, 1], --batch
 * samples). onnxruntime-node is an optional dependency: without it an .onnx model gets a clear
 * message and the TF.js path still works.
 *
 * Bounded work, whatever the model file says (issue 22): every tensor skipgraph allocates or asks
 * onnxruntime for (the input batch, each declared output) is sized from the model's declared shapes
 * before anything is allocated, against --max-tensor-bytes; only float32 inputs and outputs are
 * taken; --threads is capped at the machine's cores; printing shows at most 16 samples and
 * MAX_TOP classes each; and an error of onnxruntime's is one line, exit 1.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { formatBytes } from '../../compiler/limits.js';
import { lcg32 } from '../../random/index.js';
import { EXIT, InputError, parseByteSize, parsePositiveInt, type Io } from '../io.js';
import { planOutput } from '../../io/output_policy.js';
import { readingSavedModel, userInput, userInputAsync } from './saved_model.js';
import { importOptional } from '../../errors/optional.js';
import { loadRuntime } from '../../targets/tfjs/load.js';
import { areFeatureMaps, printMaps, type NamedOutput } from './infer_maps.js';
import type { Tensor } from '@tensorflow/tfjs';

interface InferFlags {
  input: string;
  batch: number;
  threads?: number;
  runs: number;
  top: number;
  out?: string;
  backend?: string;
  seed: number;
  maxTensorBytes: number;
  force?: boolean;
}

/** The default of --max-tensor-bytes: the input batch and the outputs together. */
export const DEFAULT_MAX_TENSOR_BYTES = 4 * 2 ** 30;
/** Classes printed per sample at most: a wider row is summarised (--out writes every value). */
export const MAX_TOP = 100;
/** Samples printed at most. */
const MAX_SAMPLES = 16;

interface Batch {
  data: Float32Array;
  dims: number[];
}

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node, or an input error that gives its install line (an optional peer). */
export async function loadOnnxRuntime(): Promise<Ort> {
  return userInputAsync(() => importOptional(() => import('onnxruntime-node'), 'running an ONNX file'));
}

const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** One tensor of a run, as the budget counts it. */
interface Sized {
  what: string;
  dims: readonly number[];
}

/**
 * Refuses, before anything is allocated, a run whose float32 tensors (the input batch and the
 * declared outputs) need more than --max-tensor-bytes. The message names each tensor's size and
 * the flag that raises the limit.
 */
function checkBudget(tensors: readonly Sized[], limit: number, batchFlag: boolean): void {
  const bytes = tensors.map((t) => count(t.dims) * 4);
  const total = bytes.reduce((a, b) => a + b, 0);
  if (total <= limit) return;
  const parts = tensors.map((t, i) => `${t.what} [${t.dims.join(', ')}] ${formatBytes(bytes[i])}`).join(', ');
  throw new InputError(
    `this run needs ${formatBytes(total)} of float32 tensors (${parts}), over the limit of ${formatBytes(limit)}.\n` +
      `  Give --max-tensor-bytes SIZE (e.g. --max-tensor-bytes 16GiB) to raise it${batchFlag ? ', or a smaller --batch' : ''}.`,
  );
}

/** A Float32Array of n values, or an input error (the budget allows it, the JavaScript engine may not). */
function allocate(n: number, what: string): Float32Array {
  try {
    return new Float32Array(n);
  } catch (e) {
    throw new InputError(`cannot allocate ${what} (${n} float32 values): ${(e as Error).message}; give a smaller --batch`);
  }
}

/** A random batch in [-1, 1] (src/random's lcg32: reproducible across runs and runtimes). */
function randomBatch(dims: number[], seed: number): Batch {
  const u = lcg32(seed);
  const data = allocate(count(dims), 'the random input');
  for (let i = 0; i < data.length; i++) data[i] = u() * 2 - 1;
  return { data, dims };
}

/** The input file's tensor: checked against the model's [C, H, W] and the budget (with `outputs`) before it is read. */
async function readInput(path: string, chw: number[] | undefined, outputs: (batch: number) => Sized[], limit: number): Promise<Batch> {
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
      checkBudget([{ what: `input "${name}"`, dims }, ...outputs(dims[0])], limit, false);
      return { data: src.float32(name), dims };
    } finally {
      src.close();
    }
  });
}

const ms = (t: number) => `${t.toFixed(t < 10 ? 2 : 1)} ms`;

/**
 * The `top` largest values of a row with their indices, largest first, in one pass (a sorted
 * buffer of at most `top`): a row of 5e7 values costs one scan, not a sort. NaN never ranks.
 */
export function topK(row: Float32Array, top: number): [number, number][] {
  const best: [number, number][] = [];
  if (top < 1) return best;
  for (let c = 0; c < row.length; c++) {
    const v = row[c];
    if (Number.isNaN(v) || (best.length === top && !(v > best[top - 1][1]))) continue;
    let at = best.length;
    while (at > 0 && best[at - 1][1] < v) at--;
    best.splice(at, 0, [c, v]);
    if (best.length > top) best.pop();
  }
  return best;
}

/** At most MAX_SAMPLES samples, each its top classes (at most MAX_TOP); what was left out is said, with --out for all. */
function printOutputs(io: Io, y: Float32Array, dims: readonly number[], top: number, out: string | undefined): void {
  const n = dims.length === 0 ? 1 : dims[0];
  const k = count(dims.slice(1));
  const shown = Math.min(top, MAX_TOP, k);
  for (let i = 0; i < Math.min(n, MAX_SAMPLES); i++) {
    const row = y.subarray(i * k, (i + 1) * k);
    const best = topK(row, shown);
    const nan = best.length < shown ? ` (${shown - best.length} of the top ${shown} are NaN)` : '';
    io.out(`  sample ${i}: ${best.map(([c, v]) => `class ${c} ${v.toFixed(4)}`).join(', ')}${nan}`);
  }
  if (n > MAX_SAMPLES) io.out(`  ... (${n - MAX_SAMPLES} more samples)`);
  if (top > MAX_TOP && k > MAX_TOP) io.out(`  (--top shows at most ${MAX_TOP} classes a sample)`);
  if (out === undefined && (n > MAX_SAMPLES || k > shown)) io.out(`  every value: --out FILE.safetensors (${count(dims)} values)`);
}

/** --threads, capped at the machine's cores (more only queue, and very many never start). */
function threadCount(flags: InferFlags, io: Io): number {
  const cores = availableParallelism();
  if (flags.threads === undefined) return Math.min(cores, 8);
  if (flags.threads <= cores) return flags.threads;
  io.err(`note: --threads ${flags.threads} is more than this machine's ${cores} core${cores === 1 ? '' : 's'}: using ${cores}`);
  return cores;
}

/** onnxruntime's message, one line and bounded (never its stack). */
const ortMessage = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 400);

type Metadata = Awaited<ReturnType<Ort['InferenceSession']['create']>>['inputMetadata'][number];

/** The declared shape of a float32 tensor, or an input error naming what infer takes. */
function floatShape(meta: Metadata | undefined, kind: 'input' | 'output', model: string): readonly (number | string)[] {
  if (meta === undefined) throw new InputError(`${model} declares no ${kind}`);
  if (!meta.isTensor) throw new InputError(`${model}'s ${kind} "${meta.name}" is not a tensor: infer takes models with float32 tensors in and out`);
  if (meta.type !== 'float32') {
    throw new InputError(`${model}'s ${kind} "${meta.name}" is ${meta.type}: infer takes float32 tensors in and out (as \`export --target onnx\` writes them)`);
  }
  return meta.shape;
}

/** A declared output's dims for a batch of `batch`: a symbolic first dim is the batch; unknown dims count 1 (the run's real size is checked after). */
function outputDims(shape: readonly (number | string)[], batch: number): number[] {
  return shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? batch : 1));
}

/** --out, for the output policy (src/io/output_policy.ts): never the model's files or the input, nor a file skipgraph did not write without --force. */
const outputOf = (model: string, flags: InferFlags) => ({ path: flags.out!, flag: '--out', kind: 'safetensors' as const, force: flags.force, inputs: [model, `${model}/model.json`, `${model}/weights.bin`, flags.input] });

/** Writes the outputs: a classifier's as the tensor "output", a backbone's maps each by its output's name. */
async function write(o: ReturnType<typeof outputOf>, outputs: readonly NamedOutput[]): Promise<void> {
  const [{ serializeSafetensors }, { SAFETENSORS_PRODUCER, writeOutputFile }] = await Promise.all([import('../../formats/safetensors.js'), import('../../io/output_policy.js')]);
  const maps = areFeatureMaps(outputs.map((y) => y.dims));
  const tensors = Object.fromEntries(outputs.map((y) => [maps ? y.name : 'output', { shape: [...y.dims], data: y.data }]));
  userInput(() => writeOutputFile(o, serializeSafetensors(tensors, SAFETENSORS_PRODUCER)));
}

/**
 * The model file is a regular file, and every tensor it keeps outside (ONNX external data) names a
 * regular file in the model's folder: onnxruntime refuses paths that leave the folder by name, but
 * follows a link out and blocks forever on a FIFO, so links, FIFOs and devices are refused here,
 * before onnxruntime opens anything.
 */
async function checkModelFiles(model: string): Promise<void> {
  const { readFileSync, realpathSync, statSync } = await import('node:fs');
  const { dirname, isAbsolute, relative, resolve } = await import('node:path');
  if (!statSync(model).isFile()) throw new InputError(`${model} is not a regular file: give an .onnx file or a saved model folder`);
  const { ModelProto } = await import('../../targets/onnx/proto.js');
  let decoded: { graph?: { initializer?: { name?: string; data_location?: number; external_data?: { key?: string; value?: string }[] }[] } };
  try {
    decoded = ModelProto.decode(readFileSync(model)) as typeof decoded;
  } catch (e) {
    throw new InputError(`${model} is not an ONNX model (${ortMessage(e)})`);
  }
  const folder = realpathSync(dirname(resolve(model)));
  for (const t of decoded.graph?.initializer ?? []) {
    if (t.data_location !== 1) continue; // 1: EXTERNAL
    const location = t.external_data?.find((e) => e.key === 'location')?.value ?? '';
    let regular = false;
    try {
      // Where the name leads once every link is followed: inside the folder, and a plain file.
      const real = realpathSync(resolve(folder, location));
      const rel = relative(folder, real);
      regular = location !== '' && !isAbsolute(location) && rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && statSync(real).isFile();
    } catch {
      regular = false;
    }
    if (!regular) throw new InputError(`${model}: tensor "${t.name ?? ''}" keeps its data in ${JSON.stringify(location)}, which is not a regular file in the model's folder (links, FIFOs and devices are refused)`);
  }
}

async function inferOnnx(model: string, flags: InferFlags, io: Io): Promise<void> {
  const ort = await loadOnnxRuntime();
  await checkModelFiles(model);
  const threads = threadCount(flags, io);
  let session: Awaited<ReturnType<Ort['InferenceSession']['create']>>;
  try {
    // logSeverityLevel 4 (fatal only): onnxruntime's own warnings and errors would print beside ours; every error is mapped below.
    session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4 });
  } catch (e) {
    throw new InputError(`onnxruntime cannot load ${model}: ${ortMessage(e)}`);
  }
  try {
    if (session.inputNames.length !== 1) throw new InputError(`${model} has ${session.inputNames.length} inputs (${session.inputNames.slice(0, 5).join(', ')}): infer feeds one, a batch of images`);
    const shape = floatShape(session.inputMetadata[0], 'input', model);
    const outShapes = session.outputMetadata.map((m) => floatShape(m, 'output', model));
    const outputs = (batch: number): Sized[] => outShapes.map((s, i) => ({ what: `output "${session.outputNames[i]}"`, dims: outputDims(s, batch) }));
    const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : undefined;
    if (flags.input === 'random' && fixedBatch !== undefined && fixedBatch !== flags.batch) {
      throw new InputError(`${model} takes a batch of exactly ${fixedBatch} ([${shape.join(', ')}]): give --batch ${fixedBatch}`);
    }
    const chw = shape.slice(1).map((d) => (typeof d === 'number' ? d : -1));
    let x: Batch;
    if (flags.input === 'random') {
      if (shape.length < 2 || !chw.every((d) => d > 0)) throw new InputError(`${model}'s input has no fixed size ([${shape.join(', ')}]): give --input FILE.safetensors`);
      const dims = [flags.batch, ...chw];
      checkBudget([{ what: `input "${session.inputNames[0]}"`, dims }, ...outputs(flags.batch)], flags.maxTensorBytes, true);
      x = randomBatch(dims, flags.seed);
    } else x = await readInput(flags.input, chw, outputs, flags.maxTensorBytes);
    io.out(`onnxruntime-node ${ort.env.versions.node ?? ''}, CPU provider, ${threads} intra-op thread${threads === 1 ? '' : 's'}: ${model}, input "${session.inputNames[0]}" [${x.dims.join(', ')}]`);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
    const run = async () => {
      try {
        return await session.run(feeds);
      } catch (e) {
        throw new InputError(`onnxruntime cannot run ${model} on the input [${x.dims.join(', ')}]: ${ortMessage(e)}`);
      }
    };
    let out = await run(); // the first run also warms up
    const times: number[] = [];
    for (let r = 0; r < flags.runs; r++) {
      const t0 = performance.now();
      out = await run();
      times.push(performance.now() - t0);
    }
    const ys = session.outputNames.map((name): NamedOutput => {
      const y = out[name];
      if (y.type !== 'float32') throw new InputError(`${model}'s output "${name}" is ${y.type}: infer takes float32 outputs`);
      return { name, data: y.data as Float32Array, dims: y.dims };
    });
    report(io, times, x.dims[0]);
    // A backbone's feature maps get their shapes and statistics; a classifier's scores their top classes.
    if (areFeatureMaps(ys.map((y) => y.dims))) printMaps(io, ys, flags.out);
    else {
      io.out(`output "${ys[0].name}" [${ys[0].dims.join(', ')}]`);
      printOutputs(io, ys[0].data, ys[0].dims, flags.top, flags.out);
    }
    if (flags.out) await write(outputOf(model, flags), ys);
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
  // The runtime's index registers skipgraph's layers for loading; TF.js is an optional peer.
  const { tf, selectBackend, describeBackend, loadModel } = await userInputAsync(() => loadRuntime('infer on a TF.js model'));
  const backend = await userInputAsync(() => selectBackend({ force: flags.backend, forceSource: '--backend' }));
  const model = await readingSavedModel(dir, () => loadModel(dir));
  try {
    const [, h, w, c] = model.inputs[0].shape as number[];
    const outputs = (batch: number): Sized[] => model.outputs.map((o, i) => ({ what: `output "${model.outputNames[i]}"`, dims: outputDims(o.shape.map((d) => d ?? -1), batch) }));
    let x: Batch;
    if (flags.input === 'random') {
      const dims = [flags.batch, c, h, w];
      checkBudget([{ what: 'input', dims }, ...outputs(flags.batch)], flags.maxTensorBytes, true);
      x = randomBatch(dims, flags.seed);
    } else x = await readInput(flags.input, [c, h, w], outputs, flags.maxTensorBytes);
    io.out(`TF.js ${describeBackend(backend)[0].replace(/^backend: /, '')}: ${dir}, input [${x.dims.join(', ')}] (NCHW, given to TF.js as NHWC)`);
    const nhwc = tf.tidy(() => tf.transpose(tf.tensor(x.data, x.dims), [0, 2, 3, 1]));
    // A backbone's model returns one tensor per feature (NHWC maps, shown and written as NCHW).
    const run = () => tf.tidy(() => [model.predict(nhwc)].flat().map((t: Tensor) => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t)));
    const settle = (ts: Tensor[]) => Promise.all(ts.map((t) => t.data()));
    let ys = run();
    await settle(ys);
    const times: number[] = [];
    for (let r = 0; r < flags.runs; r++) {
      tf.dispose(ys);
      const t0 = performance.now();
      ys = run();
      await settle(ys);
      times.push(performance.now() - t0);
    }
    report(io, times, x.dims[0]);
    const named = await Promise.all(ys.map(async (t, i): Promise<NamedOutput> => ({ name: model.outputNames[i], data: (await t.data()) as Float32Array, dims: t.shape })));
    if (areFeatureMaps(named.map((y) => y.dims))) printMaps(io, named, flags.out);
    else {
      io.out(`output [${named[0].dims.join(', ')}]`);
      printOutputs(io, named[0].data, named[0].dims, flags.top, flags.out);
    }
    if (flags.out) await write(outputOf(dir, flags), named);
    tf.dispose(ys);
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
    .option('--threads <n>', "onnxruntime's intra-op threads (default: the CPUs, at most 8; never more than the CPUs)", parsePositiveInt('--threads'))
    .option('--runs <n>', 'timed runs after the warm-up', (v: string) => (v === '0' ? 0 : parsePositiveInt('--runs')(v)), 3)
    .option('--top <k>', `classes printed per sample (at most ${MAX_TOP}; --out writes every value)`, parsePositiveInt('--top'), 5)
    .option('--seed <n>', 'seed of a random input', parsePositiveInt('--seed'), 1)
    .option('--out <file.safetensors>', 'also write the outputs (tensor "output")')
    .option('--force', 'replace --out even when skipgraph did not write it (never an input, a link, a device or a FIFO)')
    .option('--backend <name>', 'TF.js backend for a model folder (default: the best available)')
    .option('--max-tensor-bytes <size>', 'limit on the input batch and outputs together, checked before allocating (default 4GiB)', parseByteSize('--max-tensor-bytes'), DEFAULT_MAX_TENSOR_BYTES)
    .action(async (model: string, flags: InferFlags) => {
      const { existsSync, statSync } = await import('node:fs');
      if (!existsSync(model)) throw new InputError(`${model} does not exist: give an .onnx file or a saved model folder`);
      if (flags.out) userInput(() => planOutput(outputOf(model, flags))); // checked before any work
      if (statSync(model).isDirectory()) await inferTfjs(model, flags, io);
      else await inferOnnx(model, flags, io);
      setExit(EXIT.ok);
    });
}
