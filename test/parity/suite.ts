/**
 * The parity suite for one backend: for each model, torchvision's state_dict imported into our
 * emitted model reproduces torchvision's eval-mode logits, and one training-mode forward leaves
 * every batch norm with PyTorch's running statistics. Figures go to test-output/parity-<backend>[-label].json.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile, compileSource, type BnAttrs } from '../../src/compiler/files.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { layerVariable, loadStateDict, openSafetensors, stateDictSlots } from '../../src/targets/tfjs/weights/index.js';
import { announceSkip, ensureFixtures, MODELS, SIZE, TINY_FLATTEN_YAML, type Fixtures, type ParityModel } from './fixtures.js';

/** max |ours - torch| / max |torch| over the logits. */
export const LOGITS_TOLERANCE = 1e-4;
/**
 * Running statistics after one step: max |ours - torch| / max(1, max |torch|) per tensor. The
 * train-mode forward normalises by batch statistics of as few as 8 values per channel (layer4 at
 * 64x64, batch 2), which amplifies float32 rounding: measured up to 1.1e-4 (resnet50 layer4).
 * The mistakes this guards against are larger: momentum 0.9 for 0.1 is O(1), and the biased
 * batch variance for PyTorch's unbiased one is 7.5e-4 on tiny_flatten, 2.7e-3 on the CIFAR net
 * and 3e-2 and up on the ImageNet ones.
 */
export const STATS_TOLERANCE = 3e-4;

/**
 * How the runtime's batch norm estimates the batch variance it folds into running_var. PyTorch
 * uses the unbiased one (sum / (n - 1)); TF.js's BatchNormalization layer, which the runtime
 * emits today, the biased one (sum / n). While this says 'biased', running_var is checked against
 * PyTorch's update with the biased estimator (so momentum and epsilon are still checked exactly)
 * and the exact comparison is an expected failure; flip it when the runtime's BN adopts n / (n - 1).
 */
export const RUNTIME_BN_VARIANCE: 'biased' | 'unbiased' = 'unbiased';

export interface ModelFigures {
  model: ParityModel;
  backend: string;
  logitsScale: number;
  logitsMaxAbsDiff: number;
  logitsRelDiff: number;
  /** Worst over every batch norm, max |ours - torch| / max(1, max |torch|) per tensor. */
  runningMeanRelDiff: number;
  /** Against PyTorch's running_var (unbiased batch variance). */
  runningVarRelDiff: number;
  /** Against PyTorch's update redone with the biased batch variance. */
  runningVarBiasedRelDiff: number;
  worstStat: string;
  seconds: number;
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / Math.max(1, maxAbs(b));
};

const yamlOf = (m: ParityModel) => join('architectures', `${m}.yaml`);

/** Builds, imports, runs eval and one train step; the figures every test of the model reads. */
function measure(dir: string, name: ParityModel, backend: string): ModelFigures {
  const t0 = Date.now();
  const sets = name === 'cifar_resnet20' ? [] : [`input.height=${SIZE}`, `input.width=${SIZE}`];
  const compiled = name === 'tiny_flatten' ? compileSource(TINY_FLATTEN_YAML) : compileFile(yamlOf(name), { sets });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const graph = compiled.graph!;
  const model = buildModel(graph, { probe: false });
  const io = openSafetensors(join(dir, 'io.safetensors'));
  const weights = openSafetensors(join(dir, 'weights.safetensors'));
  try {
    const report = loadStateDict(model, graph, weights);
    expect(report.ignored.every((k) => k.endsWith('.num_batches_tracked'))).toBe(true);

    const inShape = io.header.tensors.get('input')!.shape;
    const x = tf.tidy(() => tf.tensor(io.float32('input'), inShape).transpose([0, 2, 3, 1]));
    const want = io.float32('logits_eval');
    const got = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync().slice());
    expect(got.length).toBe(want.length);
    const logitsScale = maxAbs(want);
    let logitsMaxAbsDiff = 0;
    for (let i = 0; i < want.length; i++) logitsMaxAbsDiff = Math.max(logitsMaxAbsDiff, Math.abs(got[i] - want[i]));

    // One training-mode forward: each batch norm folds its batch statistics into the running ones.
    tf.tidy(() => void model.apply(x, { training: true }));
    x.dispose();
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    let runningMeanRelDiff = 0;
    let runningVarRelDiff = 0;
    let runningVarBiasedRelDiff = 0;
    let worstStat = '';
    let worst = -1;
    for (const slot of stateDictSlots(graph)) {
      if (slot.variable !== 'moving_mean' && slot.variable !== 'moving_variance') continue;
      const ours = layerVariable(model.getLayer(slot.node), slot.variable).read().dataSync();
      const ref = io.float32(`after.${slot.key}`);
      const rel = relDiff(ours, ref);
      if (slot.variable === 'moving_mean') runningMeanRelDiff = Math.max(runningMeanRelDiff, rel);
      else {
        runningVarRelDiff = Math.max(runningVarRelDiff, rel);
        // PyTorch: rv = (1 - m) rv0 + m var * n / (n - 1); the same update with var alone:
        const node = byId.get(slot.node)!;
        const m = (node.attrs as unknown as BnAttrs).momentum;
        const n = inShape[0] * node.shape[0] * node.shape[1];
        const rv0 = weights.float32(slot.key);
        const biased = ref.map((r, i) => (1 - m) * rv0[i] + (r - (1 - m) * rv0[i]) * ((n - 1) / n));
        runningVarBiasedRelDiff = Math.max(runningVarBiasedRelDiff, relDiff(ours, biased));
      }
      if (rel > worst) [worst, worstStat] = [rel, slot.key];
    }
    return {
      model: name,
      backend,
      logitsScale,
      logitsMaxAbsDiff,
      logitsRelDiff: logitsMaxAbsDiff / logitsScale,
      runningMeanRelDiff,
      runningVarRelDiff,
      runningVarBiasedRelDiff,
      worstStat,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    io.close();
    weights.close();
    model.dispose();
  }
}

/** `label` names the figures file (test-output/parity-<backend>[-label].json) when a backend's models are split over files. */
export function paritySuite(backend: 'cpu' | 'wasm', models: readonly ParityModel[] = MODELS, label?: string): void {
  let fixtures: Fixtures = { skip: 'not prepared' };
  const figures = new Map<ParityModel, ModelFigures>();

  beforeAll(async () => {
    fixtures = await ensureFixtures();
    if ('skip' in fixtures) announceSkip(fixtures.skip);
    else await selectBackend({ force: backend });
  }, 600_000);

  afterAll(() => {
    if (figures.size === 0) return;
    mkdirSync('test-output', { recursive: true });
    writeFileSync(join('test-output', `parity-${backend}${label ? `-${label}` : ''}.json`), JSON.stringify([...figures.values()], null, 2) + '\n');
  });

  /** The model's figures, measured by whichever of its tests runs first; undefined when skipping. */
  const figuresOf = (name: ParityModel): ModelFigures | undefined => {
    if ('skip' in fixtures) return undefined;
    if (!figures.has(name)) figures.set(name, measure(join(fixtures.dir, name), name, backend));
    return figures.get(name)!;
  };

  describe(`parity with torchvision on ${backend}`, () => {
    for (const name of models) {
      it(`${name}: eval-mode logits within ${LOGITS_TOLERANCE} of their scale`, (ctx) => {
        const f = figuresOf(name);
        if (!f) return ctx.skip();
        expect(f.logitsRelDiff, `max |diff| ${f.logitsMaxAbsDiff} at scale ${f.logitsScale}`).toBeLessThanOrEqual(LOGITS_TOLERANCE);
      });
      it(`${name}: running statistics after one train-mode forward (momentum ${0.1}, eps 1e-5)`, (ctx) => {
        const f = figuresOf(name);
        if (!f) return ctx.skip();
        expect(f.runningMeanRelDiff, 'running_mean').toBeLessThanOrEqual(STATS_TOLERANCE);
        const v = RUNTIME_BN_VARIANCE === 'biased' ? f.runningVarBiasedRelDiff : f.runningVarRelDiff;
        expect(v, `running_var (${RUNTIME_BN_VARIANCE} batch variance)`).toBeLessThanOrEqual(STATS_TOLERANCE);
      });
      if (RUNTIME_BN_VARIANCE === 'biased') {
        // Known gap, in the runtime's batch norm: fails until it uses n / (n - 1) (then flip the constant).
        it.fails(`${name}: running_var with PyTorch's unbiased batch variance (known gap: the runtime's BN uses the biased one)`, (ctx) => {
          const f = figuresOf(name);
          if (!f) return ctx.skip();
          expect(f.runningVarRelDiff, `running_var, worst ${f.worstStat}`).toBeLessThanOrEqual(STATS_TOLERANCE);
        });
      }
    }
  });
}
