import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { FileHandler } from './file_io.js';
import { writeFolderAtomic } from '../../../io/out_dir.js';

/** Saves `model` as DIR/model.json + DIR/weights.bin (atomic files); optionally with the optimizer's state. */
export async function saveModel(model: tf.LayersModel, dir: string, options: { includeOptimizer?: boolean } = {}): Promise<void> {
  await model.save(new FileHandler(dir, true), { includeOptimizer: options.includeOptimizer ?? false });
}

/** Loads a model saved by saveModel (or any TF.js layers model.json); skipgraph's layers are registered. */
export async function loadModel(pathOrDir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(new FileHandler(pathOrDir));
}

/**
 * Saves `model` as the folder `out`, whole: written into a temporary sibling folder and renamed
 * into place, so `out` holds the old model or the new one, never a mix (see checkOutDir first).
 */
export async function saveModelFolder(model: tf.LayersModel, out: string): Promise<void> {
  await writeFolderAtomic(out, (tmp) => saveModel(model, tmp));
}
