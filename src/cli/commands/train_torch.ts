/**
 * `skipgraph train FILE --engine torch`: compile, emit the PyTorch module (src/targets/torch/emit.ts) to
 * OUT/model.py, write the same data the TF.js engine trains on to OUT/data.safetensors (once: a
 * resumed run reuses it), and run the shipped trainer (python/skipgraph_train.py) with one or N
 * processes. Loads no TensorFlow.js: only the compiler, the torch target and the TF.js-free data
 * readers (the CLI is the one layer that may use two targets' parts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compileFile, requireClassifier } from '../../compiler/files.js';
import { formatDiagnostics } from '../../parser/index.js';
import { UserError } from '../../errors/index.js';
import { loadCifar10Bin } from '../../data/cifar10.js';
import { subset, type TrainTestSplit } from '../../data/dataset.js';
import { loadMnist } from '../../data/mnist.js';
import { checkOutDir, lockFolder, makeFolders } from '../../io/out_dir.js';
import { planOutput, writeOutput, type OwnedKind } from '../../io/output_policy.js';
import { markRunFolder } from '../../io/run_folder.js';
import { listImageFolder } from '../../data/imagefolder.js';
import { parseAugment } from '../../data/augment.js';
import { defaultRunFolder, RECIPE_FLAG_NAMES, type RecipeFlags } from '../../training/flags.js';
import { progressBar } from '../../training/progress.js';
import { resolveRecipe } from '../../training/recipes.js';
import { SCHEDULES } from '../../training/schedule.js';
import { writeDataFile } from '../../targets/torch/data_file.js';
import { emitTorch } from '../../targets/torch/emit.js';
import { emitted } from '../../targets/torch/error.js';
import { findPython, runTorchTraining, TorchError, TRAINER_FILES, trainerArgs } from '../../targets/torch/train.js';
import { EXIT, InputError, shown, UsageError, type Io } from '../io.js';
import type { TrainFlags } from './train.js';

/** `train --engine torch` reads the same flags as the TF.js engine and refuses its recipe-only ones. */
export type TorchTrainFlags = TrainFlags;


const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The data the TF.js engine would train on (src/data's loaders, the same split), limits applied. */
function loadSplit(spec: string, trainLimit?: number, testLimit?: number): TrainTestSplit {
  let data: TrainTestSplit;
  if (spec === 'mnist') data = loadMnist();
  else if (spec.startsWith('cifar10-bin:') && spec.length > 'cifar10-bin:'.length) data = loadCifar10Bin(spec.slice('cifar10-bin:'.length));
  else throw new UserError(`--engine torch trains on 'mnist', 'cifar10-bin:DIR' or 'imagefolder:DIR', not '${spec}'`);
  const first = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);
  if (trainLimit !== undefined) data = { ...data, train: subset(data.train, first(Math.min(data.train.count, trainLimit))) };
  if (testLimit !== undefined) data = { ...data, test: subset(data.test, first(Math.min(data.test.count, testLimit))) };
  return data;
}

/** Runs `train --engine torch`; returns the exit code. */
export async function trainTorch(file: string, flags: TorchTrainFlags, io: Io): Promise<number> {
  if (flags.backend !== undefined) throw new UsageError('--backend picks a TensorFlow.js backend; with --engine torch use --device cpu|cuda');
  const device = flags.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError(`--device must be cpu, cuda or auto, not "${device}"`);
  if (flags.optimizer !== undefined && !['sgd', 'adam', 'adamw'].includes(flags.optimizer)) throw new UsageError(`unknown optimizer '${flags.optimizer}'; use sgd, adam, adamw`);
  if (flags.schedule !== undefined && !(SCHEDULES as readonly string[]).includes(flags.schedule)) throw new UsageError(`unknown schedule '${flags.schedule}'; use ${SCHEDULES.join(', ')}`);
  if (flags.schedulePer !== undefined && !['step', 'epoch'].includes(flags.schedulePer)) throw new UsageError(`--schedule-per must be 'step' or 'epoch', not '${flags.schedulePer}'`);
  try {
    if (flags.recipe !== undefined) resolveRecipe(flags.recipe, flags.epochs); // an unknown name, before any work
    if (flags.augment !== undefined) parseAugment(flags.augment);
    const r = compileFile(file, { sets: flags.set ?? [] });
    if (r.graph === undefined) throw new UserError(`${file} does not compile:\n${formatDiagnostics(r.diagnostics, { sources: r.sources, color: false }, r.dropped)}`);
    const graph = requireClassifier(r.graph, 'train');
    // Emitted before any folder is made: a node name PyTorch cannot hold is refused at its layer, nothing written.
    const moduleText = emitted(() => emitTorch(graph, { source: file, version: pkg.version }));
    const python = flags.prepare ? undefined : findPython();
    const out = resolve(flags.out ?? defaultRunFolder(file, 'torch'));
    checkOutDir(out, { allowModel: true, run: 'torch' }); // never a TF.js run's folder (src/io/run_folder.ts)
    if (!flags.resume && !flags.prepare && existsSync(join(out, 'checkpoint.pt'))) {
      throw new UserError(`${out} already holds a training run (checkpoint.pt); add --resume to continue it, or choose another --out`);
    }
    makeFolders(out);
    const release = lockFolder(out);
    try {
      markRunFolder(out, 'torch');
      // Every file is checked before any is written (the output policy, src/io/output_policy.ts):
      // the user's own model.py, data.safetensors or scripts are kept unless --force.
      const plan = (name: string, kind: OwnedKind) => planOutput({ path: join(out, name), flag: '--out', kind, force: flags.force, inputs: [file, ...r.sources.keys()] });
      const planned = { model: plan('model.py', 'torch-module'), data: flags.data.startsWith('imagefolder:') ? undefined : plan('data.safetensors', 'safetensors') };
      const scripts = flags.prepare ? TRAINER_FILES.map((f) => ({ from: f, to: plan(basename(f), 'trainer-file') })) : [];
      const modelFile = join(out, 'model.py');
      writeOutput(planned.model, moduleText);
      // Image folders are read where the training runs (python/skipgraph_train_data.py: the TF.js
      // engine's class map); MNIST and CIFAR are decoded here once into OUT/data.safetensors.
      const folder = flags.data.startsWith('imagefolder:');
      let dataArg: string;
      if (folder) {
        const root = flags.data.slice('imagefolder:'.length);
        if (root === '') throw new UserError('--data imagefolder:DIR needs the folder of train/ and val/ class folders');
        const classes = listImageFolder(join(root, 'train')).classes; // refuses a folder without classes now, not in Python
        if (classes.length !== graph.classes) {
          throw new UserError(`${file} has ${graph.classes} classes, but ${join(root, 'train')} has ${classes.length} class folders; adjust the file or use --set classes=${classes.length}`);
        }
        dataArg = `imagefolder:${resolve(root)}`;
      } else {
        const data = loadSplit(flags.data, flags.trainLimit, flags.testLimit);
        const { height, width, channels } = graph.input;
        const t = data.train;
        if (height !== t.height || width !== t.width || channels !== t.channels || graph.classes !== t.classes) {
          throw new UserError(
            `${file} takes ${height}x${width}x${channels} images and ${graph.classes} classes, but ${t.name} has ${t.height}x${t.width}x${t.channels} and ${t.classes}; ` +
              'adjust the file or use --set input.height=... --set input.width=... --set input.channels=... --set classes=...',
          );
        }
        dataArg = join(out, 'data.safetensors');
        writeDataFile(dataArg, data, JSON.stringify({ data: flags.data, train: flags.trainLimit ?? null, test: flags.testLimit ?? null, version: pkg.version }));
      }
      const recipe: RecipeFlags = {};
      for (const k of RECIPE_FLAG_NAMES) if (flags[k] !== undefined) (recipe as Record<string, unknown>)[k] = flags[k];
      const options = {
        ...recipe,
        model: modelFile,
        data: dataArg,
        out,
        epochs: flags.epochs,
        seed: flags.seed,
        device: device as 'auto' | 'cpu' | 'cuda',
        nproc: flags.nproc,
        resume: flags.resume,
        syncBn: flags.syncBn,
        compile: flags.compile,
        workers: flags.workers,
        extra: [
          ...(flags.zeroInitResidual ? ['--zero-init-residual'] : []),
          ...(folder && flags.trainLimit !== undefined ? ['--train-limit', String(flags.trainLimit)] : []),
          ...(folder && flags.testLimit !== undefined ? ['--test-limit', String(flags.testLimit)] : []),
        ],
      };
      if (flags.prepare) {
        const script = join(out, 'skipgraph_train.py');
        for (const f of scripts) writeOutput(f.to, readFileSync(f.from));
        const local = { ...options, model: 'model.py', data: folder ? dataArg : 'data.safetensors', out: '.', nproc: undefined };
        const q = (a: string[]) => a.map((s) => (/^[\w./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
        io.out(shown(`wrote ${modelFile}, ${folder ? '' : `${dataArg}, `}${script}, its modules and recipes.json; this folder trains without Node. In it:`));
        io.out(shown(`  python3 ${q(trainerArgs({ ...local, nproc: flags.nproc }, 'skipgraph_train.py'))}`));
        io.out(shown(`  torchrun --nproc_per_node=N ${q(trainerArgs(local, 'skipgraph_train.py'))}`));
        return EXIT.ok;
      }
      const started = performance.now();
      const result = await runTorchTraining({
        ...options,
        python: python!.python,
        log: (line) => io.out(line),
        err: (line) => io.err(line),
        progress: flags.progress ? progressBar(process.stderr, flags.progressEvery, (line) => io.err(line)) : undefined,
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
