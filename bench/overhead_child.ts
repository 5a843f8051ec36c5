/**
 * Runtime overhead: skipgraph's emitted ResNet-18 against bench/handwritten.ts, same backend,
 * batch 32, 32x32x3, 10 classes. After one warm-up of each, --rounds rounds of A, B, A, B:
 * one forward (inference) and one SGD training step each. Ratios are per round (emitted / hand).
 *
 *   node --import tsx bench/overhead_child.ts --backend wasm --rounds 5 [--per 3]
 */
import * as tf from '@tensorflow/tfjs';
import { compileFile } from '../src/compiler/files.js';
import { selectBackend } from '../src/targets/tfjs/backend.js';
import { buildModel } from '../src/targets/tfjs/build.js';
import { arch, argValue, emit } from './common.js';
import { handwrittenResnet18 } from './handwritten.js';

const argv = process.argv.slice(2);
const backend = argValue(argv, '--backend', 'wasm')!;
const rounds = Number(argValue(argv, '--rounds', '5'));
// Consecutive runs of one model per measurement (their mean is the figure): single wasm steps
// vary by +-25% (allocation, garbage collection), which a ratio of single steps inherits.
const per = Number(argValue(argv, '--per', '1'));

await selectBackend({ force: backend, forceSource: '--backend' });
const r = compileFile(arch('resnet18'), { sets: ['input.height=32', 'input.width=32', 'classes=10'] });
if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
const emitted = buildModel(r.graph, { seed: 1, probe: false });
const hand = handwrittenResnet18(32, 32, 10);
if (emitted.countParams() !== hand.countParams()) throw new Error(`parameter counts differ: ${emitted.countParams()} vs ${hand.countParams()}`);
const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 3);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 10), 'int32'), 10).toFloat();

function runner(model: tf.LayersModel) {
  const opt = tf.train.sgd(0.01);
  return {
    async forward(): Promise<number> {
      const t0 = performance.now();
      const out = model.predict(x) as tf.Tensor;
      await out.data();
      out.dispose();
      return (performance.now() - t0) / 1000;
    },
    async step(): Promise<number> {
      const t0 = performance.now();
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
      await loss.data();
      loss.dispose();
      return (performance.now() - t0) / 1000;
    },
  };
}
const A = runner(emitted);
const B = runner(hand);
await A.forward(); await B.forward(); await A.step(); await B.step();
const res = { params: emitted.countParams(), forward: { emitted: [] as number[], hand: [] as number[] }, step: { emitted: [] as number[], hand: [] as number[] } };
for (let i = 0; i < rounds; i++) {
  // Alternate which goes first, so neither always runs right after the other's allocations.
  const order = i % 2 === 0 ? [['emitted', A], ['hand', B]] as const : [['hand', B], ['emitted', A]] as const;
  const mean = async (f: () => Promise<number>) => {
    let total = 0;
    for (let j = 0; j < per; j++) total += await f();
    return total / per;
  };
  for (const [k, m] of order) res.forward[k].push(await mean(m.forward));
  for (const [k, m] of order) res.step[k].push(await mean(m.step));
}
emit({ backend: tf.getBackend(), ...res });
