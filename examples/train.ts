/**
 * A CIFAR-10-style training script through skipgraph's public API, as a user writes it: the
 * cifar-resnet recipe (random crop with 4 pixels of padding and horizontal flips, SGD momentum 0.9
 * with weight decay 5e-4 off biases and batch norm, linear warm-up then cosine, label smoothing
 * 0.1, an EMA of the weights), top-1/top-5 each epoch, the confusion matrix, the model and its
 * EMA saved.
 *
 *   npx tsx examples/train.ts [--arch architectures/cifar_resnet20.yaml] [--data cifar10-bin:DIR]
 *                             [--set path=value ...] [--epochs 30] [--batch 128] [--out runs/example]
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileFile, formatDiagnostics } from 'skipgraph';
import {
  buildModel,
  DataLoader,
  describeBackend,
  evaluate,
  formatConfusion,
  loadData,
  lrAt,
  parseAugment,
  RecipeOptimizer,
  saveModel,
  selectBackend,
  smoothedCrossEntropy,
  WeightEma,
} from 'skipgraph/runtime';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'architectures/cifar_resnet20.yaml' },
    data: { type: 'string', default: 'cifar10-bin:cifar-10-batches-bin' },
    set: { type: 'string', multiple: true, default: [] },
    epochs: { type: 'string', default: '30' },
    batch: { type: 'string', default: '128' },
    out: { type: 'string', default: 'runs/example' },
  },
});
const epochs = Number(values.epochs);

// 1. The best TF.js backend present (tfjs-node-gpu, tfjs-node, wasm, cpu), with skipgraph's kernels.
const backend = await selectBackend();
console.log(describeBackend(backend)[0]);

// 2. Compile the architecture; print the diagnostics (file:line:col, the line, a caret) if it fails.
const compiled = compileFile(values.arch, { sets: values.set });
if (compiled.graph === undefined) {
  console.error(formatDiagnostics(compiled.diagnostics, { sources: compiled.sources }, compiled.dropped));
  process.exit(1);
}
const graph = compiled.graph;

// 3. Data: CIFAR-10's binary files (or mnist, or imagefolder:DIR resized to the input size).
//    The training split is shuffled and augmented; the held-out split is neither.
const { train, test } = loadData(values.data, {}, graph.input);
const loader = new DataLoader(train, { batchSize: Number(values.batch), shuffle: true, seed: 0, augment: parseAugment('crop:4+flip') });
console.log(`${graph.name}: ${graph.totals.trainableParams.toLocaleString("en-US")} trainable params; ${train.count} training, ${test.count} held-out images`);

// 4. The model, the optimizer (PyTorch's SGD: L2 weight decay in the gradient, not on rank-1
//    parameters), the loss on logits with label smoothing, an EMA of the weights and the schedule.
const model = buildModel(graph, { seed: 0 });
const optimizer = new RecipeOptimizer('sgd', 0.1, { momentum: 0.9, weightDecay: 5e-4 });
model.compile({ optimizer, loss: smoothedCrossEntropy(0.1), metrics: ['acc'] });
const ema = new WeightEma(model, 0.99);
const emaModel = buildModel(graph, { seed: 0 });
const schedule = { schedule: 'cosine', lr: 0.1, epochs, stepsPerEpoch: loader.length, warmup: epochs > 1 ? 1 : 0 } as const;

// 5. Train: the rate set every step, the EMA updated after it; evaluate the raw and EMA weights.
let step = 0;
for (let epoch = 0; epoch < epochs; epoch++) {
  const t0 = performance.now();
  let [lossSum, seen] = [0, 0];
  for (const batch of loader.epoch(epoch)) {
    optimizer.setLearningRate(lrAt(schedule, step++));
    const xs = tf.tensor4d(batch.x, batch.shape);
    const ys = tf.tensor2d(batch.y, [batch.shape[0], train.classes]);
    const [loss] = (await model.trainOnBatch(xs, ys)) as number[];
    tf.dispose([xs, ys]);
    ema.update();
    lossSum += loss * batch.shape[0];
    seen += batch.shape[0];
  }
  const seconds = (performance.now() - t0) / 1000;
  const raw = await evaluate(model, test);
  ema.copyTo(emaModel);
  const averaged = await evaluate(emaModel, test);
  console.log(
    `epoch ${epoch + 1}/${epochs}: loss ${(lossSum / seen).toFixed(4)}, held-out top-1 ${(100 * raw.top1).toFixed(2)}% ` +
      `top-5 ${(100 * raw.top5).toFixed(2)}%, EMA top-1 ${(100 * averaged.top1).toFixed(2)}%, ${(seen / seconds).toFixed(0)} img/s`,
  );
}

// 6. The confusion matrix of the held-out images, and both models saved (model.json + weights.bin).
console.log(formatConfusion(await evaluate(model, test)).join('\n'));
await saveModel(model, values.out);
await saveModel(emaModel, join(values.out, 'ema'));
console.log(`saved ${join(values.out, 'model.json')} and ${join(values.out, 'ema', 'model.json')}`);
