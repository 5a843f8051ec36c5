/**
 * Runs the PyTorch trainer (python/skipgraph_train.py, shipped in the package) on an emitted
 * module: finds a Python with torch, starts the script with --events, and turns its `@skipgraph`
 * lines into the same epoch lines and progress bar as the TF.js engine. Nothing here loads
 * TensorFlow.js.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { epochLine } from '../../training/format.js';
import { recipeArgs, type RecipeFlags } from '../../training/flags.js';
import type { EpochRecord, TrainProgress } from '../../training/record.js';
import { RECIPE_FILE } from '../../training/recipes.js';

/** The training script: python/ at the package root (three levels above src/targets/torch and dist/targets/torch). */
export const TRAIN_SCRIPT = fileURLToPath(new URL('../../../python/skipgraph_train.py', import.meta.url));

/** What the script needs beside it (its modules and the recipe file): --prepare copies these into OUT. */
export const TRAINER_FILES = [
  TRAIN_SCRIPT,
  ...['check', 'data', 'loop', 'recipe'].map((m) => fileURLToPath(new URL(`../../../python/skipgraph_train_${m}.py`, import.meta.url))),
  RECIPE_FILE,
];

/** The environment variable naming the Python interpreter to use. */
export const PYTHON_ENV = 'SKIPGRAPH_PYTHON';

/** Tried in order when SKIPGRAPH_PYTHON is unset: Debian's system Python (python3-torch), then PATH's. */
export const DEFAULT_PYTHONS = ['/usr/bin/python3', 'python3'];

/** Something the user can fix (no Python, no torch, a trainer error): printed as one message, exit 1. */
export class TorchError extends Error {
  override readonly name = 'TorchError';
}

export interface PythonInfo {
  python: string;
  torch: string;
  pythonVersion: string;
  cuda: boolean;
}

const HOW_TO_FIX =
  'Install PyTorch (Debian/Ubuntu: apt-get install python3-torch; elsewhere: pip install torch), ' +
  `or point skipgraph at a Python that has it: ${PYTHON_ENV}=/path/to/python3.`;

const PROBE = 'import sys, torch; print(torch.__version__); print(sys.version.split()[0]); print(int(torch.cuda.is_available()))';

function probe(python: string): PythonInfo | string {
  if (python.includes('/') && !existsSync(python)) return `${python} does not exist`;
  const r = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `${python} cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
    return `${python} has no usable torch${last ? ` (${last})` : ''}`;
  }
  const [torch, pythonVersion, cuda] = r.stdout.trim().split('\n');
  return { python, torch, pythonVersion, cuda: cuda === '1' };
}

/**
 * The interpreter to train with: $SKIPGRAPH_PYTHON when set (and only it), else the first of
 * DEFAULT_PYTHONS that imports torch. Throws a TorchError saying what to install otherwise.
 */
export function findPython(env: NodeJS.ProcessEnv = process.env): PythonInfo {
  const chosen = env[PYTHON_ENV];
  const candidates = chosen ? [chosen] : DEFAULT_PYTHONS;
  const reasons: string[] = [];
  for (const c of candidates) {
    const r = probe(c);
    if (typeof r !== 'string') return r;
    reasons.push(r);
  }
  const where = chosen ? `${PYTHON_ENV}=${chosen}: ${reasons[0]}` : `no Python with torch found (${reasons.join('; ')})`;
  throw new TorchError(`--engine torch needs PyTorch: ${where}. ${HOW_TO_FIX}`);
}

/** What the trainer reports while it runs: the TF.js engine's progress interface (src/training). */
export type Progress = TrainProgress;
export type { EpochRecord };

/** The trainer's final JSON line. */
export interface TorchResult {
  valAcc: number | null;
  valLoss: number | null;
  epochs: number;
  startEpoch: number;
  steps: number;
  history: EpochRecord[];
  model: string;
  checkpoint: string;
  world: number;
  device: string;
  launcher: string;
}

export interface TorchTrainOptions extends Omit<RecipeFlags, 'optimizer' | 'schedule' | 'batch' | 'lr'> {
  /** The interpreter (findPython().python). */
  python: string;
  /** The emitted module file. */
  model: string;
  /** The data file (writeDataFile). */
  data: string;
  out: string;
  epochs: number;
  batch?: number;
  lr?: number;
  optimizer?: string;
  schedule?: string;
  seed?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  nproc?: number;
  resume?: boolean;
  syncBn?: boolean;
  /** torch.compile (torch 2.x; the script refuses it on 1.13). */
  compile?: boolean;
  /** DataLoader workers per process (default: the script's choice). */
  workers?: number;
  /** More arguments for the script (e.g. --max-steps 3, --accumulate 2, --threads 1). */
  extra?: string[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** The script's stderr, line by line (warnings, a crash's traceback). */
  err?: (line: string) => void;
  progress?: Progress;
}

export const EVENT_PREFIX = '@skipgraph ';

/** The command line that trains: what `--prepare` prints and what runTorchTraining starts. */
export function trainerArgs(o: Omit<TorchTrainOptions, 'python'>, script = TRAIN_SCRIPT): string[] {
  const a = [script, '--model', o.model, '--data', o.data, '--out', o.out, '--epochs', String(o.epochs)];
  const add = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) a.push(flag, String(v));
  };
  const { batch, lr, optimizer, schedule } = o;
  a.push(...recipeArgs({ ...o, batch, lr, optimizer, schedule }));
  add('--seed', o.seed);
  add('--device', o.device);
  add('--nproc', o.nproc);
  add('--workers', o.workers);
  if (o.compile) a.push('--compile');
  if (o.resume) a.push('--resume');
  if (o.syncBn) a.push('--sync-bn');
  a.push(...(o.extra ?? []));
  return a;
}

interface StartEvent {
  name: string;
  params: number;
  data: string;
  train: number;
  test: number;
  device: string;
  deviceName: string;
  world: number;
  launcher: string;
  backend: string;
  torch: string;
  amp: string;
  channelsLast: boolean;
  threads: number;
}

/** One line about where training runs, as the TF.js engine's backend line. */
export function describeStart(s: StartEvent): string {
  const where = s.device === 'cuda' ? `cuda (${s.deviceName}; bf16 autocast ${s.amp}, channels_last ${s.channelsLast ? 'on' : 'off'})` : `cpu (${s.threads} thread${s.threads === 1 ? '' : 's'} a process)`;
  const procs = s.world === 1 ? '1 process' : `${s.world} processes (DDP, ${s.backend}, started by ${s.launcher})`;
  return `engine: torch ${s.torch} on ${where}, ${procs}`;
}

/**
 * Runs the trainer to the end. Resolves with its final metrics; rejects with a TorchError carrying
 * the script's own message when it refuses the input (exit 1), or naming the exit code otherwise.
 */
export function runTorchTraining(o: TorchTrainOptions): Promise<TorchResult> {
  const log = o.log ?? (() => {});
  const errLine = o.err ?? ((l: string) => process.stderr.write(l + '\n'));
  const args = [...trainerArgs(o), '--events'];
  return new Promise((resolve, reject) => {
    const child = spawn(o.python, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', ...o.env } });
    let result: TorchResult | undefined;
    const errors: string[] = [];
    const lines = (stream: NodeJS.ReadableStream, each: (line: string) => void) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        rest += chunk;
        const parts = rest.split('\n');
        rest = parts.pop() ?? '';
        for (const p of parts) each(p);
      });
      stream.on('end', () => {
        if (rest) each(rest);
      });
    };
    lines(child.stdout!, (line) => {
      if (!line.startsWith(EVENT_PREFIX)) return log(line);
      const e = parseEvent(line.slice(EVENT_PREFIX.length));
      if (typeof e === 'string') return errLine(`warning: the PyTorch trainer sent a malformed event (${e}); ignored: ${line.slice(0, 200)}`);
      const problem = handleEvent(e);
      if (problem !== undefined) errLine(`warning: the PyTorch trainer sent a malformed '${e.event}' event (${problem}); ignored`);
    });
    const handleEvent = (e: TrainerEvent): string | undefined => {
      switch (e.event) {
        case 'start': {
          if (!hasFields(e, { name: 'string', params: 'number', data: 'string', train: 'number', test: 'number', device: 'string', world: 'number' })) return 'missing fields';
          const s = e as unknown as StartEvent;
          log(describeStart(s));
          log(`${s.name}: ${s.params.toLocaleString('en-US')} trainable params; ${s.data}: ${s.train} training, ${s.test} held-out images`);
          return undefined;
        }
        case 'resume':
          if (!hasFields(e, { path: 'string', epoch: 'number' })) return 'missing fields';
          log(`resuming from ${e.path as string} after epoch ${e.epoch as number}`);
          return undefined;
        case 'log':
          if (!hasFields(e, { line: 'string' })) return 'missing fields';
          log(e.line as string);
          return undefined;
        case 'epochStart':
          if (!hasFields(e, { epoch: 'number', epochs: 'number', batches: 'number' })) return 'missing fields';
          o.progress?.epochStart(e.epoch as number, e.epochs as number, e.batches as number);
          return undefined;
        case 'batch':
          if (!hasFields(e, { done: 'number' })) return 'missing fields';
          o.progress?.batch(e.done as number, { loss: num(e.loss), acc: num(e.acc), imagesPerSecond: num(e.imagesPerSecond), lr: optional(e.lr), step: optional(e.step), steps: optional(e.steps) });
          return undefined;
        case 'epochEnd':
          o.progress?.epochEnd();
          return undefined;
        case 'epoch':
          if (!hasFields(e, { epoch: 'number' })) return 'missing fields';
          log(epochLine(e as unknown as EpochRecord, o.epochs));
          return undefined;
        case 'done':
          if (!hasFields(e, { epochs: 'number', startEpoch: 'number', steps: 'number', model: 'string', world: 'number', device: 'string' }) || !Array.isArray(e.history)) return 'missing fields';
          result = e as unknown as TorchResult;
          return undefined;
        default:
          return 'unknown kind';
      }
    };
    lines(child.stderr!, (line) => {
      const m = /^error: (.*)$/.exec(line);
      if (m) errors.push(m[1]);
      else errLine(line);
    });
    child.on('error', (err) => reject(new TorchError(`cannot start ${o.python}: ${err.message}. ${HOW_TO_FIX}`)));
    child.on('close', (code, signal) => {
      if (code === 0 && result) return resolve(result);
      if (errors.length > 0) return reject(new TorchError([...new Set(errors)].join('\n')));
      reject(new TorchError(`the PyTorch trainer (${TRAIN_SCRIPT}) stopped ${signal ? `on ${signal}` : `with exit code ${code}`}${code === 0 ? ' without its final line' : ''}; see its output above`));
    });
  });
}

/** The epoch line (src/training/format.ts: both engines print it). */
export { epochLine };

type TrainerEvent = { event: string } & Record<string, unknown>;

/** One event's JSON, or why it is not one (never throws: a bad line must not end the run). */
export function parseEvent(text: string): TrainerEvent | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { event?: unknown }).event !== 'string') return 'not an object with an event name';
  return v as TrainerEvent;
}

function hasFields(e: TrainerEvent, fields: Record<string, 'string' | 'number'>): boolean {
  return Object.entries(fields).every(([k, t]) => typeof e[k] === t);
}

/** A number the trainer sent (null: a non-finite value) as a number (NaN for null). */
const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
const optional = (v: unknown) => (typeof v === 'number' ? v : undefined);
