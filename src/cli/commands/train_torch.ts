/**
 * `skipgraph train FILE --engine torch`: compile, emit the PyTorch module (src/targets/torch/emit.ts) to
 * OUT/model.py, write the same data the TF.js engine trains on to OUT/data.safetensors (once: a
 * resumed run reuses it), and run the shipped trainer (python/skipgraph_train.py) with one or N
 * processes. Loads no TensorFlow.js: only the compiler, the torch target and the TF.js-free data
 * readers (the CLI is the one layer that may use two targets' parts).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileFile } from '../../compiler/index.js';
import { formatDiagnostics } from '../../parser/index.js';
import { UserError } from '../../errors/index.js';
import { loadCifar10Bin } from '../../data/cifar10.js';
import { subset, type TrainTestSplit } from '../../data/dataset.js';
import { loadMnist } from '../../data/mnist.js';
import { checkOutDir, lockFolder, makeFolders } from '../../io/out_dir.js';
import { progressBar } from '../../targets/tfjs/train/progress.js';
import { writeDataFile } from '../../targets/torch/data_file.js';
import { emitTorch } from '../../targets/torch/emit.js';
import { findPython, runTorchTraining, TorchError, TRAIN_SCRIPT, trainerArgs } from '../../targets/torch/train.js';
import { EXIT, InputError, UsageError, type Io } from '../io.js';
import type { TrainFlags } from './train.js';

/** `train --engine torch` reads the same flags as the TF.js engine and refuses its recipe-only ones. */
export type TorchTrainFlags = TrainFlags;

const TFJS_ONLY = ['recipe', 'augment', 'warmup', 'schedulePer', 'lrStepSize', 'lrGamma', 'milestones', 'ema', 'dropLast'] as const;
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The data the TF.js engine would train on (runtime/data's loaders, the same split), limits applied. */
function loadSplit(spec: string, trainLimit?: number, testLimit?: number): TrainTestSplit {
  let data: TrainTestSplit;
  if (spec === 'mnist') data = loadMnist();
  else if (spec.startsWith('cifar10-bin:') && spec.length > 'cifar10-bin:'.length) data = loadCifar10Bin(spec.slice('cifar10-bin:'.length));
  else throw new UserError(`--engine torch trains on 'mnist' or 'cifar10-bin:DIR', not '${spec}'`);
  const first = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);
  if (trainLimit !== undefined) data = { ...data, train: subset(data.train, first(Math.min(data.train.count, trainLimit))) };
  if (testLimit !== undefined) data = { ...data, test: subset(data.test, first(Math.min(data.test.count, testLimit))) };
  return data;
}

/** Runs `train --engine torch`; returns the exit code. */
export async function trainTorch(file: string, flags: TorchTrainFlags, io: Io): Promise<number> {
  for (const k of TFJS_ONLY) if (flags[k] !== undefined) throw new UsageError(`${flagName(k)} is a TF.js-engine option; --engine torch does not take it (yet)`);
  if (flags.backend !== undefined) throw new UsageError('--backend picks a TensorFlow.js backend; with --engine torch use --device cpu|cuda');
  const device = flags.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError(`--device must be cpu, cuda or auto, not "${device}"`);
  if (!['sgd', 'adam', 'adamw'].includes(flags.optimizer)) throw new UsageError(`--engine torch knows the optimizers sgd, adam and adamw, not "${flags.optimizer}"`);
  if (!['cosine', 'constant'].includes(flags.schedule)) throw new UsageError(`--engine torch knows the schedules cosine and constant, not "${flags.schedule}"`);
  try {
    const r = compileFile(file, { sets: flags.set ?? [] });
    if (r.graph === undefined) throw new UserError(`${file} does not compile:\n${formatDiagnostics(r.diagnostics, { sources: r.sources, color: false }, r.dropped)}`);
    const graph = r.graph;
    const python = flags.prepare ? undefined : findPython();
    const out = resolve(flags.out ?? `runs/${file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '')}`);
    checkOutDir(out, { allowModel: true });
    if (!flags.resume && !flags.prepare && existsSync(join(out, 'checkpoint.pt'))) {
      throw new UserError(`${out} already holds a training run (checkpoint.pt); add --resume to continue it, or choose another --out`);
    }
    makeFolders(out);
    const release = lockFolder(out);
    try {
      const modelFile = join(out, 'model.py');
      writeFileSync(modelFile, emitTorch(graph, { source: file, version: pkg.version }));
      const data = loadSplit(flags.data, flags.trainLimit, flags.testLimit);
      const { height, width, channels } = graph.input;
      const t = data.train;
      if (height !== t.height || width !== t.width || channels !== t.channels || graph.classes !== t.classes) {
        throw new UserError(
          `${file} takes ${height}x${width}x${channels} images and ${graph.classes} classes, but ${t.name} has ${t.height}x${t.width}x${t.channels} and ${t.classes}; ` +
            'adjust the file or use --set input.height=... --set input.width=... --set input.channels=... --set classes=...',
        );
      }
      const dataFile = join(out, 'data.safetensors');
      writeDataFile(dataFile, data, JSON.stringify({ data: flags.data, train: flags.trainLimit ?? null, test: flags.testLimit ?? null, version: pkg.version }));
      const options = {
        model: modelFile,
        data: dataFile,
        out,
        epochs: flags.epochs,
        batch: flags.batch,
        lr: flags.lr,
        optimizer: flags.optimizer,
        schedule: flags.schedule,
        seed: flags.seed,
        device: device as 'auto' | 'cpu' | 'cuda',
        nproc: flags.nproc,
        resume: flags.resume,
        syncBn: flags.syncBn,
        extra: [
          ...(flags.zeroInitResidual ? ['--zero-init-residual'] : []),
          ...(flags.nesterov ? ['--nesterov'] : []),
          ...(flags.decayAll ? ['--decay-all'] : []),
          ...(flags.momentum !== undefined ? ['--momentum', String(flags.momentum)] : []),
          ...(flags.weightDecay !== undefined ? ['--weight-decay', String(flags.weightDecay)] : []),
          ...(flags.labelSmoothing !== undefined ? ['--label-smoothing', String(flags.labelSmoothing)] : []),
          ...(flags.clipGrad !== undefined ? ['--clip-grad', String(flags.clipGrad)] : []),
        ],
      };
      if (flags.prepare) {
        const script = join(out, 'skipgraph_train.py');
        copyFileSync(TRAIN_SCRIPT, script);
        const local = { ...options, model: 'model.py', data: 'data.safetensors', out: '.', nproc: undefined };
        const q = (a: string[]) => a.map((s) => (/^[\w./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
        io.out(`wrote ${modelFile}, ${dataFile} and ${script}; this folder trains without Node. In it:`);
        io.out(`  python3 ${q(trainerArgs({ ...local, nproc: flags.nproc }, 'skipgraph_train.py'))}`);
        io.out(`  torchrun --nproc_per_node=N ${q(trainerArgs(local, 'skipgraph_train.py'))}`);
        return EXIT.ok;
      }
      const started = performance.now();
      const result = await runTorchTraining({
        ...options,
        python: python!.python,
        log: (line) => io.out(line),
        err: (line) => io.err(line),
        progress: flags.progress ? progressBar(process.stderr) : undefined,
      });
      const seconds = (performance.now() - started) / 1000;
      const acc = result.valAcc === null ? 'n/a' : `${(100 * result.valAcc).toFixed(2)}%`;
      const n = result.history.length;
      const where = `torch ${result.device}${result.world > 1 ? ` x${result.world}` : ''}`;
      io.out(`held-out accuracy ${acc} after ${n} epoch${n === 1 ? '' : 's'} (${seconds.toFixed(1)} s on ${where}); model: ${result.model}`);
      return EXIT.ok;
    } finally {
      release();
    }
  } catch (err) {
    if (err instanceof UserError || err instanceof TorchError) throw new InputError(err.message);
    throw err;
  }
}
