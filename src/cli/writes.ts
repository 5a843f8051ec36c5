/**
 * What each command writes, declared in one place. Every option (or argument) through which a
 * command writes is listed here with what it names (one file, a folder of files, a model folder,
 * a training run folder), how skipgraph knows its own files there (src/io/output_policy.ts's
 * kinds), and a command line that writes through it. test/cli/writers.test.ts walks the program
 * main.ts builds: an option that looks like a writer and is not listed here fails it, and every
 * entry is tried against every hostile target (a user's file, the command's own input, links in
 * and out, a FIFO, a device, a 0600 file replaced with --force).
 *
 * Placeholders in `args`: $ARCH (an architecture), $MNIST (an MNIST architecture), $MODEL (a saved
 * TF.js model folder), $ST (a safetensors state_dict of $ARCH), $OUT (the output under test).
 */
import type { OwnedKind } from '../io/output_policy.js';
import type { Engine } from '../io/run_folder.js';

export type WriteTarget =
  /** The option names one file, replaced only when skipgraph wrote it (kind) or with --force. */
  | { what: 'file'; kind: OwnedKind }
  /** The option names a folder; these files are written inside it, each under the file rules. */
  | { what: 'folder'; files: readonly { name: string; kind: OwnedKind }[]; run?: Engine }
  /** A saved model folder (model.json + weights.bin): replaced whole only with --force (src/io/out_dir.ts). */
  | { what: 'model-folder' }
  /** A training run folder of one engine (src/io/run_folder.ts); the files in it are the run's. */
  | { what: 'run-folder'; run: Engine };

export interface Writer {
  /** The command as the program names it, subcommands after a space: 'weights export'. */
  command: string;
  /** The long flag, or `<name>` for an argument. */
  option: string;
  target: WriteTarget;
  /** The flag that lets a user's file be replaced, when the command has one. */
  force?: '--force';
  /** A command line that writes through this option. */
  args: readonly string[];
  /** What, read by the same command, `$OUT` must never replace (a file, or the folder `model-folder` reads). */
  input: string;
}

export const WRITERS: readonly Writer[] = [
  { command: 'export', option: '--out', target: { what: 'file', kind: 'onnx' }, force: '--force', args: ['export', '$ARCH', '--target', 'onnx', '--out', '$OUT'], input: '$ARCH' },
  { command: 'export', option: '--out', target: { what: 'file', kind: 'torch-module' }, force: '--force', args: ['export', '$ARCH', '--target', 'torch', '--out', '$OUT'], input: '$ARCH' },
  { command: 'infer', option: '--out', target: { what: 'file', kind: 'safetensors' }, force: '--force', args: ['infer', '$MODEL', '--runs', '0', '--backend', 'cpu', '--out', '$OUT'], input: '$MODEL/model.json' },
  { command: 'weights export', option: '--out', target: { what: 'file', kind: 'safetensors' }, force: '--force', args: ['weights', 'export', '$ARCH', '--model', '$MODEL', '--out', '$OUT'], input: '$MODEL/weights.bin' },
  { command: 'sweep', option: '--plot', target: { what: 'file', kind: 'sweep-plot' }, force: '--force', args: ['sweep', '$ARCH', '--grid', 'classes=3,4', '--plot', '$OUT'], input: '$ARCH' },
  { command: 'sweep', option: '--emit', target: { what: 'folder', files: [{ name: 'tiny-0000.yaml', kind: 'sweep-variant' }] }, force: '--force', args: ['sweep', '$ARCH', '--grid', 'classes=3,4', '--emit', '$OUT'], input: '$ARCH' },
  { command: 'fold', option: '--out', target: { what: 'model-folder' }, force: '--force', args: ['fold', '$ARCH', '--model', '$MODEL', '--out', '$OUT', '--backend', 'cpu'], input: '$MODEL' },
  { command: 'weights import', option: '--out', target: { what: 'model-folder' }, force: '--force', args: ['weights', 'import', '$ARCH', '--from', '$ST', '--out', '$OUT', '--backend', 'cpu'], input: '$ST' },
  {
    command: 'train',
    option: '--out',
    target: { what: 'run-folder', run: 'tfjs' },
    args: ['train', '$MNIST', '--out', '$OUT', '--epochs', '1', '--train-limit', '8', '--test-limit', '8', '--backend', 'cpu', '--no-progress'],
    input: '$MNIST',
  },
  {
    command: 'train',
    option: '--out',
    target: { what: 'folder', run: 'torch', files: [{ name: 'model.py', kind: 'torch-module' }, { name: 'data.safetensors', kind: 'safetensors' }, { name: 'skipgraph_train.py', kind: 'trainer-file' }] },
    force: '--force',
    args: ['train', '$MNIST', '--engine', 'torch', '--prepare', '--out', '$OUT', '--train-limit', '8', '--test-limit', '8'],
    input: '$MNIST',
  },
];

/**
 * Options and arguments that look like writers (by name or description) and are not, or that
 * write under their own rules, each with the reason.
 */
export const NOT_WRITERS: Readonly<Record<string, string>> = {
  'train --prepare': 'a mode of train --engine torch: what it writes goes to --out (listed above)',
  'train --force': 'lets train --engine torch replace files in --out (listed above)',
  'train --resume': 'continues the run in --out (listed above)',
  'weights import --fold': 'what --out holds (listed above): the inference form',
  'infer --top': 'what is printed; --out (listed above) writes every value',
  'export --target': 'what --out (listed above) holds',
  'export --model': 'an input: the saved model whose weights go to --out',
  'train --ema': 'the EMA weights, saved inside the run folder --out (listed above)',
  'playground <file>': 'the playground saves the file it edits, when the user saves (src/cli/commands/playground.ts; test/playground)',
};
