import type { Command } from 'commander';
import { UserError } from '../../errors/index.js';
import { defaultRunFolder, type RecipeFlags } from '../../training/flags.js';
import { parseProgressEvery, progressBar, type ProgressEvery } from '../../training/progress.js';
import { collect, EXIT, InputError, parsePositiveInt, processIo, UsageError, type Io } from '../io.js';

/** The flags of `train`, both engines: the recipe flags (src/training/flags.ts) and the rest. */
export interface TrainFlags extends RecipeFlags {
  data: string;
  epochs: number;
  out?: string;
  resume?: boolean;
  backend?: string;
  seed: number;
  set?: string[];
  trainLimit?: number;
  testLimit?: number;
  zeroInitResidual?: boolean;
  progress: boolean;
  progressEvery?: ProgressEvery;
  engine: string;
  device?: string;
  nproc?: number;
  syncBn?: boolean;
  compile?: boolean;
  workers?: number;
  prepare?: boolean;
  force?: boolean;
}

/** Flags with a default that a --recipe replaces when the user left them alone. */
const RECIPE_DEFAULTED = ['batch', 'lr', 'optimizer', 'schedule'] as const;

const progressEvery = (v: string) => {
  const e = parseProgressEvery(v);
  if (e === undefined) throw new UsageError(`--progress-every needs a number of steps (50) or seconds (10s), not "${v}".`);
  return e;
};

const positiveNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, not "${v}".`);
  return n;
};

const nonNegativeNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} needs a number of 0 or more, not "${v}".`);
  return n;
};

const epochList = (v: string) => {
  const list = v.split(',').map((p) => Number(p.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0)) throw new UsageError(`--milestones needs positive epochs separated by commas, e.g. 30,60,80, not "${v}".`);
  return list;
};

const wholeNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} needs a whole number, not "${v}".`);
  return n;
};

/** `train`: compile, build, train with a progress bar, validate and checkpoint every epoch. */
export function register(program: Command, io: Io = processIo(), setExit: (code: number) => void = () => {}): void {
  program
    .command('train')
    .description('train an architecture on MNIST (default) or CIFAR-10 with TensorFlow.js, or with PyTorch (--engine torch)')
    .argument('<file>', 'architecture YAML file')
    .option('--data <spec>', "'mnist' (the digits in the mnist package), 'cifar10-bin:DIR' or 'imagefolder:DIR' (DIR/train/<class>/*.jpg|png and DIR/val/<class>/...)", 'mnist')
    .option('--epochs <n>', 'total epochs (a resumed run continues up to this many)', parsePositiveInt('--epochs'), 3)
    .option('--batch <n>', 'batch size', parsePositiveInt('--batch'), 64)
    .option('--lr <x>', 'learning rate (the peak of the cosine schedule)', positiveNumber('--lr'), 0.1)
    .option('--optimizer <name>', 'sgd (momentum 0.9), adam or adamw (decoupled weight decay)', 'sgd')
    .option('--schedule <name>', 'learning rate schedule: cosine (to 0 over all epochs), constant, step, multistep or onecycle', 'cosine')
    .option('--out <dir>', 'output folder for checkpoints and the final model (default: runs/<name>; runs/<name>-torch with --engine torch)')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--backend <name>', 'force a backend: node-gpu, webgpu, node, wasm or cpu (else SKIPGRAPH_BACKEND, else the best present)')
    .option('--seed <n>', 'seed for initialisation and shuffling', wholeNumber('--seed'), 0)
    .option('--set <path=value>', 'override a value of the architecture, e.g. input.height=28 (repeatable)', collect)
    .option('--train-limit <n>', 'train on the first n training images only', parsePositiveInt('--train-limit'))
    .option('--test-limit <n>', 'validate on the first n held-out images only', parsePositiveInt('--test-limit'))
    .option('--zero-init-residual', "start each block's last batch-norm gamma at zero")
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--progress-every <n>', 'without a terminal, a progress line every n steps (50) or seconds (10s); default 30s', progressEvery)
    .option('--recipe <name>', "preset: cifar-resnet (batch 128, sgd 0.1, wd 5e-4, warm-up + cosine, label smoothing 0.1, crop:4+flip) or imagenet-resnet (torchvision's: batch 32, wd 1e-4, step 30/0.1 per epoch, rrc+flip); flags given override it")
    .option('--augment <words>', 'training augmentation, words joined by +: crop[:PAD], rrc[:MINSCALE], flip[:P], mixup[:ALPHA], cutmix[:ALPHA], or none')
    .option('--momentum <x>', 'SGD momentum (default 0.9)', nonNegativeNumber('--momentum'))
    .option('--nesterov', 'Nesterov momentum (sgd)')
    .option('--weight-decay <x>', 'weight decay as PyTorch applies it: L2 added to the gradient (sgd, adam), decoupled (adamw); default 0', nonNegativeNumber('--weight-decay'))
    .option('--decay-all', 'decay biases and batch-norm parameters too (default: not, as timm)')
    .option('--clip-grad <x>', 'clip the global gradient norm to x', positiveNumber('--clip-grad'))
    .option('--warmup <epochs>', 'linear warm-up epochs from 0.01 of --lr (default 0)', nonNegativeNumber('--warmup'))
    .option('--schedule-per <unit>', 'step (default: the rate changes every step) or epoch')
    .option('--lr-step-size <epochs>', 'step schedule: decay every this many epochs (default 30)', positiveNumber('--lr-step-size'))
    .option('--lr-gamma <x>', 'step and multistep schedules: the decay factor (default 0.1)', positiveNumber('--lr-gamma'))
    .option('--milestones <list>', 'multistep schedule: epochs at which to decay, e.g. 30,60,80', epochList)
    .option('--label-smoothing <x>', 'label smoothing of the cross-entropy, e.g. 0.1 (default 0)', nonNegativeNumber('--label-smoothing'))
    .option('--ema <decay>', 'keep an EMA of the weights with this decay (e.g. 0.999): evaluated each epoch, saved in OUT/ema/', positiveNumber('--ema'))
    .option('--drop-last', 'drop the last partial training batch')
    .option('--engine <name>', 'tfjs (TensorFlow.js, in this process) or torch (PyTorch: the emitted module and python/skipgraph_train.py)', 'tfjs')
    .option('--device <name>', '--engine torch: cpu, cuda or auto (cuda when torch sees a GPU)')
    .option('--nproc <n>', '--engine torch: processes on this machine (DDP; --batch is split over them)', parsePositiveInt('--nproc'))
    .option('--sync-bn', '--engine torch on CUDA: SyncBatchNorm across processes')
    .option('--compile', '--engine torch: torch.compile the model (torch 2.x; refused on 1.13)')
    .option('--workers <n>', '--engine torch: DataLoader worker processes per process (default: by data kind and cores)', wholeNumber('--workers'))
    .option('--prepare', '--engine torch: write model.py, the data and the script to --out and print how to train them, without training')
    .option('--force', '--engine torch: replace model.py, data.safetensors and the trainer files in --out even when skipgraph did not write them')
    .action(async (file: string, flags: TrainFlags, cmd: Command) => {
      // With --recipe, a flag left at its default gives way to the recipe's value (both engines).
      if (flags.recipe !== undefined) for (const k of RECIPE_DEFAULTED) if (cmd.getOptionValueSource(k) === 'default') flags[k] = undefined;
      if (flags.engine === 'torch') return setExit(await (await import('./train_torch.js')).trainTorch(file, flags, io)); // no TF.js
      if (flags.engine !== 'tfjs') throw new UsageError(`--engine must be tfjs or torch, not "${flags.engine}"`);
      for (const f of ['device', 'nproc', 'syncBn', 'prepare', 'compile', 'workers', 'force'] as const) if (flags[f] !== undefined) throw new UsageError(`--${f.replace('B', '-b')} needs --engine torch`);
      const { train } = await import('../../targets/tfjs/train/train.js');
      const { claimRunFolder } = await import('../../targets/tfjs/train/checkpoint.js');
      const out = flags.out ?? defaultRunFolder(file, 'tfjs');
      // First Ctrl-C: finish the epoch and its checkpoint, then stop (--resume continues). Second: quit.
      const stop = new AbortController();
      const onInterrupt = () => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort();
        io.err('stopping after this epoch and its checkpoint; Ctrl-C again quits at once');
      };
      process.on('SIGINT', onInterrupt);
      let release = () => {};
      try {
        release = claimRunFolder(out); // --out checked, created and locked before any training
        const started = performance.now();
        const result = await train({
          arch: file,
          sets: flags.set,
          data: flags.data,
          epochs: flags.epochs,
          batch: flags.batch,
          lr: flags.lr,
          optimizer: flags.optimizer,
          schedule: flags.schedule,
          out,
          resume: flags.resume,
          backend: flags.backend,
          seed: flags.seed,
          trainLimit: flags.trainLimit,
          testLimit: flags.testLimit,
          zeroInitResidual: flags.zeroInitResidual,
          recipe: flags.recipe,
          augment: flags.augment,
          momentum: flags.momentum,
          nesterov: flags.nesterov,
          weightDecay: flags.weightDecay,
          decayAll: flags.decayAll,
          clipGrad: flags.clipGrad,
          warmup: flags.warmup,
          schedulePer: flags.schedulePer,
          stepSize: flags.lrStepSize,
          gamma: flags.lrGamma,
          milestones: flags.milestones,
          labelSmoothing: flags.labelSmoothing,
          ema: flags.ema,
          dropLast: flags.dropLast,
          stop: stop.signal,
          log: (line) => io.out(line),
          progress: flags.progress ? progressBar(process.stderr, flags.progressEvery, (line) => io.err(line)) : undefined,
        });
        const seconds = (performance.now() - started) / 1000;
        const acc = Number.isNaN(result.valAcc) ? 'n/a' : `${(100 * result.valAcc).toFixed(2)}%`;
        io.out(`held-out accuracy ${acc} after ${result.history.length} epoch${result.history.length === 1 ? '' : 's'} (${seconds.toFixed(1)} s on ${result.backend.choice}); model: ${result.modelPath}`);
        result.model.dispose();
        setExit(EXIT.ok);
      } catch (err) {
        if (err instanceof UserError) throw new InputError(err.message);
        throw err;
      } finally {
        release();
        process.off('SIGINT', onInterrupt);
      }
    });
}
