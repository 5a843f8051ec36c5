/**
 * Child process of the checkpoint fault test: writes checkpoints of a small model for epochs
 * 1, 2, 3, ... in a loop (each epoch with different weights) until it is killed. Prints
 * "epoch N" after each completed checkpoint. Usage: checkpoint_writer.ts OUT_DIR
 */
import * as tf from '@tensorflow/tfjs';
import { compileArchitecture } from './compile.js';
import { buildModel, selectBackend, writeCheckpoint } from '../../../../src/targets/tfjs/index.js';

const out = process.argv[2];
await selectBackend({ force: 'cpu' });
const model = buildModel(compileArchitecture('architectures/mnist_resnet.yaml'), { seed: 1, probe: false });
const optimizer = tf.train.sgd(0.1);
for (let epoch = 1; ; epoch++) {
  // Each epoch's weights are the epoch number everywhere: a loaded checkpoint must be all one epoch.
  for (const w of model.weights) w.write(tf.fill(w.shape as number[], epoch));
  await writeCheckpoint(out, model, optimizer, {
    epoch, arch: 'mnist_resnet', data: 'none', batch: 1, lr: 0.1, optimizer: 'sgd', schedule: 'constant', seed: 1, backend: 'cpu', history: [],
  });
  process.stdout.write(`epoch ${epoch}\n`);
}
