import type { Command } from 'commander';
import { UserError } from '../../runtime/errors.js';
import { progressBar } from '../../runtime/train/progress.js';
import { train } from '../../runtime/train/train.js';
import { claimRunFolder } from '../../runtime/train/checkpoint.js';
import { collect, EXIT, InputError, parsePositiveInt, processIo, UsageError, type Io } from '../io.js';

interface TrainFlags {
  data: string;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: string;
  schedule: string;
  out?: string;
  resume?: boolean;
  backend?: string;
  seed: number;
  set?: string[];
  trainLimit?: number;
  testLimit?: number;
  zeroInitResidual?: boolean;
  progress: boolean;
}

const positiveNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, not "${v}".`);
  return n;
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
    .description('train an architecture on MNIST (default) or CIFAR-10 with TensorFlow.js')
    .argument('<file>', 'architecture YAML file')
    .option('--data <spec>', "'mnist' (the digits in the mnist package) or 'cifar10-bin:DIR'", 'mnist')
    .option('--epochs <n>', 'total epochs (a resumed run continues up to this many)', parsePositiveInt('--epochs'), 3)
    .option('--batch <n>', 'batch size', parsePositiveInt('--batch'), 64)
    .option('--lr <x>', 'learning rate (the peak of the cosine schedule)', positiveNumber('--lr'), 0.1)
    .option('--optimizer <name>', 'sgd (momentum 0.9) or adam', 'sgd')
    .option('--schedule <name>', 'learning rate schedule: cosine (to 0 over all epochs) or constant', 'cosine')
    .option('--out <dir>', 'output folder for checkpoints and the final model (default: runs/<name>)')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--backend <name>', 'force a backend: node-gpu, node, wasm or cpu (else SKIPGRAPH_BACKEND, else the best present)')
    .option('--seed <n>', 'seed for initialisation and shuffling', wholeNumber('--seed'), 0)
    .option('--set <path=value>', 'override a value of the architecture, e.g. input.height=28 (repeatable)', collect)
    .option('--train-limit <n>', 'train on the first n training images only', parsePositiveInt('--train-limit'))
    .option('--test-limit <n>', 'validate on the first n held-out images only', parsePositiveInt('--test-limit'))
    .option('--zero-init-residual', "start each block's last batch-norm gamma at zero")
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, flags: TrainFlags) => {
      const out = flags.out ?? `runs/${file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '')}`;
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
          stop: stop.signal,
          log: (line) => io.out(line),
          progress: flags.progress ? progressBar(process.stderr) : undefined,
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
