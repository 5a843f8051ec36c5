/**
 * Training a skipgraph architecture through the public API, step by step:
 * compile a YAML file, build the TF.js model, fit it with callbacks, save it, load it back.
 *
 *   npx tsx examples/train.ts [--arch architectures/mnist_resnet.yaml] [--epochs 2]
 *                             [--limit 2000] [--out runs/example]
 *
 * (`skipgraph train` does the same with checkpoints, resume and a progress bar.)
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { compileFile } from '../src/compiler/index.js';
import { batchArrays, buildModel, describeBackend, loadMnist, loadModel, logitsCrossEntropy, permutation, saveModel, selectBackend } from '../src/runtime/index.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'architectures/mnist_resnet.yaml' },
    epochs: { type: 'string', default: '2' },
    limit: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '64' },
    out: { type: 'string', default: 'runs/example' },
  },
});
const epochs = Number(values.epochs);
const limit = Number(values.limit);
const batchSize = Number(values.batch);

// 1. The best TF.js backend present (tfjs-node-gpu, tfjs-node, wasm, cpu), with skipgraph's kernels.
const backend = await selectBackend();
console.log(describeBackend(backend).join('\n'));

// 2. Compile the architecture: shapes, parameter counts, diagnostics.
const compiled = compileFile(values.arch!);
if (compiled.graph === undefined) {
  for (const d of compiled.diagnostics) console.error(d.message);
  process.exit(1);
}
const graph = compiled.graph;

// 3. Build the model (checked against the compiler's shapes and counts).
const model = buildModel(graph, { seed: 0 });
console.log(`${graph.name}: ${model.countParams()} parameters`);

// 4. Data: the MNIST digits shipped in the mnist package, as normalised tensors.
const { train, test } = loadMnist();
const toTensors = (set: typeof train, n: number) => {
  const { x, y } = batchArrays(set, permutation(set.count, 1), 0, Math.min(n, set.count));
  const count = y.length / set.classes;
  return { xs: tf.tensor4d(x, [count, set.height, set.width, set.channels]), ys: tf.tensor2d(y, [count, set.classes]) };
};
const trainData = toTensors(train, limit);
const testData = toTensors(test, Math.ceil(limit / 4));

// 5. Fit with callbacks.
model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: logitsCrossEntropy, metrics: ['acc'] });
await model.fit(trainData.xs, trainData.ys, {
  epochs,
  batchSize,
  shuffle: true,
  validationData: [testData.xs, testData.ys],
  callbacks: {
    onEpochEnd: async (epoch, logs) => {
      console.log(`epoch ${epoch + 1}: loss ${logs?.loss.toFixed(4)}, held-out accuracy ${(100 * (logs?.val_acc ?? 0)).toFixed(1)}%`);
    },
  },
});

// 6. Save (model.json + weights.bin) and load it back: the same predictions.
await saveModel(model, values.out!);
const loaded = await loadModel(values.out!);
const a = (model.predict(testData.xs) as tf.Tensor).argMax(-1).dataSync();
const b = (loaded.predict(testData.xs) as tf.Tensor).argMax(-1).dataSync();
console.log(`saved to ${values.out}/model.json; reloaded model agrees on ${a.filter((v, i) => v === b[i]).length}/${a.length} predictions`);
