import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { FileHandler } from './file_io.js';

/** Saves `model` as DIR/model.json + DIR/weights.bin (atomic files); optionally with the optimizer's state. */
export async function saveModel(model: tf.LayersModel, dir: string, options: { includeOptimizer?: boolean } = {}): Promise<void> {
  await model.save(new FileHandler(dir, true), { includeOptimizer: options.includeOptimizer ?? false });
}

/** Loads a model saved by saveModel (or any TF.js layers model.json); skipgraph's layers are registered. */
export async function loadModel(pathOrDir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(new FileHandler(pathOrDir));
}
