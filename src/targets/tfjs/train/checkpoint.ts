import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../../errors/index.js';
import { writeFileAtomic } from '../../../io/atomic.js';
import { checkOutDir, lockFolder, makeFolders, removeDeadTemps } from '../../../io/out_dir.js';
import { markRunFolder } from '../../../io/run_folder.js';
import { loadModel, saveModel } from '../io/model_files.js';
import { MAX_MODEL_JSON_BYTES, MAX_WEIGHT_BYTES } from '../io/file_io.js';
import { readCappedFile } from '../../../io/safe_read.js';

import type { EpochRecord } from '../../../training/record.js';

export type { EpochRecord };

/** What a checkpoint knows besides the weights. */
export interface TrainState {
  /** Epochs completed. */
  epoch: number;
  arch: string;
  data: string;
  batch: number;
  lr: number;
  optimizer: string;
  schedule: string;
  seed: number;
  backend: string;
  history: EpochRecord[];
}

type NamedTensor = { name: string; tensor: tf.Tensor };

const LATEST = 'latest.json';
const CHECKPOINTS = 'checkpoints';
const STATE = 'state.json';
const OPT_JSON = 'optimizer.json';
const OPT_BIN = 'optimizer.bin';

const epochDir = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}`;

/**
 * Writes OUT/checkpoints/epoch-NNNN/ (model.json, weights.bin, optimizer state, state.json) into a
 * temporary folder renamed into place, then points OUT/latest.json at it (atomic rename), then
 * removes older checkpoints. A crash at any point leaves the previous checkpoint intact.
 */
export async function writeCheckpoint(out: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: TrainState): Promise<string> {
  const root = join(out, CHECKPOINTS);
  makeFolders(root);
  removeStaleTemps(out);
  const name = epochDir(state.epoch);
  const tmp = join(root, `.${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  await saveModel(model, tmp);
  const { data, specs } = await tf.io.encodeWeights(await optimizer.getWeights());
  writeFileAtomic(join(tmp, OPT_BIN), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)));
  writeFileAtomic(join(tmp, OPT_JSON), JSON.stringify({ className: optimizer.getClassName(), config: optimizer.getConfig(), specs }));
  writeFileAtomic(join(tmp, STATE), JSON.stringify(state, null, 2));
  const final = join(root, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeFileAtomic(join(out, LATEST), JSON.stringify({ epoch: state.epoch, dir: `${CHECKPOINTS}/${name}` }));
  for (const entry of readdirSync(root)) {
    if (entry !== name && entry.startsWith('epoch-')) rmSync(join(root, entry), { recursive: true, force: true });
  }
  return final;
}

/**
 * Removes what runs that were killed left in OUT: temporary checkpoint folders
 * (checkpoints/.epoch-NNNN.tmp-PID) and half-written files (NAME.tmp-PID-xxxx) whose process is
 * gone. A live run's temporaries are kept. Returns the paths removed.
 */
export function removeStaleTemps(out: string): string[] {
  const files = [MODEL_FILES, LATEST, 'history.json'].flat().map((f) => `${f}.tmp-`);
  return [
    ...removeDeadTemps(out, files).map((e) => join(out, e)),
    ...removeDeadTemps(join(out, CHECKPOINTS), ['.epoch-']).map((e) => join(out, CHECKPOINTS, e)),
  ];
}

const MODEL_FILES = ['model.json', 'weights.bin'];

/**
 * Before a training run: checks OUT (a folder, or one that can be created: `train --out FILE`
 * used to fail only after a whole epoch), creates it, takes its lock (a second run into the same
 * folder is refused) and removes what killed runs left there. Returns the lock's release.
 */
export function claimRunFolder(out: string): () => void {
  checkOutDir(out, { allowModel: true, run: 'tfjs' }); // never a torch run's folder (src/io/run_folder.ts)
  makeFolders(out);
  const release = lockFolder(out);
  try {
    markRunFolder(out, 'tfjs');
    removeStaleTemps(out);
  } catch (e) {
    release();
    throw e;
  }
  return release;
}

/** The state of OUT's latest checkpoint, or undefined when OUT holds none. */
export function latestCheckpoint(out: string): { dir: string; state: TrainState } | undefined {
  const pointer = join(out, LATEST);
  if (!existsSync(pointer)) return undefined;
  try {
    const { dir } = JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string };
    const full = join(out, dir);
    return { dir: full, state: JSON.parse(readFileSync(join(full, STATE), 'utf8')) as TrainState };
  } catch (err) {
    throw new UserError(`the checkpoint in ${out} is unreadable: ${(err as Error).message}`);
  }
}

/** The model and (when saved) optimizer state of a checkpoint folder. */
export async function readCheckpoint(dir: string): Promise<{ model: tf.LayersModel; optimizerWeights: NamedTensor[] }> {
  const model = await loadModel(dir);
  let optimizerWeights: NamedTensor[] = [];
  if (existsSync(join(dir, OPT_JSON))) {
    const { specs } = JSON.parse(readCappedFile(join(dir, OPT_JSON), MAX_MODEL_JSON_BYTES, 'optimizer state').toString('utf8')) as { specs: tf.io.WeightsManifestEntry[] };
    const bytes = readCappedFile(join(dir, OPT_BIN), MAX_WEIGHT_BYTES, 'optimizer state');
    const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
    optimizerWeights = specs.map((s) => ({ name: s.name, tensor: decoded[s.name] }));
  }
  return { model, optimizerWeights };
}
