/**
 * Property 2 (issue 5): random valid architectures, built with the TensorFlow.js runtime on a small
 * input, have the shapes and counts the compiler predicted. buildModel itself probes a zero image
 * through every layer and throws on any shape or count difference; this test adds its own checks
 * on the model (countParams, trainable weights, the real output of a random batch), so a probe that
 * stopped checking would not hide a wrong prediction.
 *
 * The same model, given random batch-norm statistics, is then folded for inference
 * (foldForInference: batch norms into convs, relus fused): the folded model's output must equal
 * the plain one's within 1e-4 of its scale, whatever order the random blocks put their layers in.
 *
 * Architectures whose weights would make a slow case (over 300k parameters) are skipped by
 * fast-check's pre-condition. FUZZ_RUNS / FUZZ_SEED as for the other properties.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/index.js';
import { buildModel, foldForInference, selectBackend } from '../../src/targets/tfjs/index.js';
import { randomiseBatchNorms } from '../targets/tfjs/helpers/model_io.js';
import { archArb, runs, SEED, toYaml } from './arch.js';
import { requireClassifier } from '../../src/compiler/index.js';

const RUNS = runs(12);
const MAX_PARAMS = 300_000;

beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
});

describe('property: the TF.js model has the compiled shapes and counts', () => {
  it(`random valid architectures (${RUNS} runs, seed ${SEED})`, () => {
    let built = 0;
    let foldedAny = 0;
    fc.assert(
      fc.property(archArb, (a) => {
        const text = toYaml(a);
        const r = compileSource(text, { file: 'generated.yaml' });
        fc.pre(r.graph !== undefined && r.graph.totals.params <= MAX_PARAMS);

        const g = r.graph!;
        const model = buildModel(g, { seed: 7 });
        try {
          expect(model.countParams()).toBe(g.totals.params);
          const trainable = model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((p, q) => p * q, 1), 0);
          expect(trainable).toBe(g.totals.trainableParams);
          // A real batch of 2 through the whole model: the output shape is the compiler's.
          const y = tf.tidy(() => model.predict(tf.randomNormal([2, g.input.height, g.input.width, g.input.channels], 0, 1, 'float32', 3)) as tf.Tensor);
          const outNode = g.nodes.find((n) => n.id === requireClassifier(g, 'this test').output)!;
          expect(y.shape).toEqual([2, ...outNode.shape]);
          expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
          y.dispose();
          // Every intermediate layer's declared shape, too.
          for (const n of g.nodes) expect(model.getLayer(n.id).outputShape).toEqual([null, ...n.shape]);
          // The inference form computes the same function.
          randomiseBatchNorms(model, 11);
          const folded = foldForInference(model, g);
          try {
            const [plain, fused] = tf.tidy(() => {
              const x = tf.randomNormal([2, g.input.height, g.input.width, g.input.channels], 0, 1, 'float32', 5);
              return [model.predict(x) as tf.Tensor, folded.model.predict(x) as tf.Tensor].map((t) => t.dataSync());
            });
            const scale = Math.max(1e-6, ...Array.from(plain, Math.abs));
            const diff = Math.max(...Array.from(plain, (v, i) => Math.abs(v - fused[i])));
            expect(diff / scale).toBeLessThan(1e-4);
            if (folded.plan.convs.length > 0) foldedAny++;
          } finally {
            folded.model.dispose();
          }
          built++;
        } finally {
          model.dispose();
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(built).toBeGreaterThan(0);
    expect(foldedAny).toBeGreaterThan(0);
  }, Math.max(120_000, RUNS * 20_000));
});
