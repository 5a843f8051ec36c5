/** The start of a TF.js training run: the compiled architecture, its data, and the model (new or resumed). */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile, requireClassifier, type ClassifierGraph, type CompiledGraph } from '../../../compiler/files.js';
import { loadData, subset, type ImageSet, type TrainTestSplit } from '../../../data/index.js';
import { InternalError, UserError } from '../../../errors/index.js';
import { formatDiagnostics } from '../../../parser/index.js';
import { buildModel } from '../build.js';
import { loadModel } from '../io/model_files.js';
import { verifyModel } from '../verify.js';
import { identityOrder } from './batches.js';
import { latestCheckpoint, readCheckpoint, type TrainState } from './checkpoint.js';
import type { RecipeOptimizer } from './optimizer.js';
import type { TrainSettings } from './settings.js';
import type { TrainEpochRecord, TrainOptions } from './train.js';

export type RunState = TrainState & { settings: TrainSettings; emaUpdates?: number; classes?: string[] };

export function compileArch(arch: string, sets: string[]): ClassifierGraph {
  const r = compileFile(arch, { sets });
  if (r.graph === undefined) {
    const text = formatDiagnostics(r.diagnostics, { sources: r.sources, color: false }, r.dropped);
    throw new UserError(`${arch} does not compile:\n${text}`);
  }
  return requireClassifier(r.graph, 'train');
}

function checkFits(graph: ClassifierGraph, set: ImageSet, arch: string): void {
  const { height, width, channels } = graph.input;
  if (height !== set.height || width !== set.width || channels !== set.channels || graph.classes !== set.classes) {
    throw new UserError(
      `${arch} takes ${height}x${width}x${channels} images and ${graph.classes} classes, but ${set.name} has ` +
        `${set.height}x${set.width}x${set.channels} and ${set.classes}; adjust the file or use --set input.height=... ` +
        `--set input.width=... --set input.channels=... --set classes=...`,
    );
  }
}

/** The run's data (loaded, or given), the limits applied, checked against the architecture; class names when known. */
export function runData(options: TrainOptions, graph: ClassifierGraph): { data: TrainTestSplit; classNames?: string[] } {
  let data = options.dataset ?? loadData(options.data ?? 'mnist', {}, graph.input);
  const classNames = options.classNames ?? (data as { classNames?: string[] }).classNames;
  if (options.trainLimit !== undefined) data = { ...data, train: subset(data.train, identityOrder(Math.min(data.train.count, options.trainLimit))) };
  if (options.testLimit !== undefined) data = { ...data, test: subset(data.test, identityOrder(Math.min(data.test.count, options.testLimit))) };
  checkFits(graph, data.train, options.arch);
  return { data, classNames };
}

export interface StartedModel {
  model: tf.LayersModel;
  history: TrainEpochRecord[];
  /** Epochs already done. */
  start: number;
  /** The saved EMA weights and their update count (a resumed run with --ema). */
  emaFrom?: tf.Tensor[];
  emaUpdates: number;
}

/**
 * The model to train, compiled with `optimizer` and `loss`: the latest checkpoint's (with its
 * optimizer state and EMA) under --resume, else a new one. Refuses a used --out without --resume.
 */
export async function startModel(
  options: TrainOptions,
  graph: CompiledGraph,
  settings: TrainSettings,
  optimizer: RecipeOptimizer,
  loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor,
  log: (line: string) => void,
): Promise<StartedModel> {
  const latest = latestCheckpoint(options.out);
  if (latest !== undefined && !options.resume) {
    throw new UserError(`${options.out} already holds a training run (epoch ${latest.state.epoch}); add --resume to continue it, or choose another --out`);
  }
  if (options.resume && latest === undefined) throw new UserError(`--resume: no checkpoint in ${options.out}`);
  if (latest === undefined) {
    // The real batch sizes the activation check, before anything is allocated.
    const model = buildModel(graph, { seed: settings.seed, zeroInitResidual: options.zeroInitResidual, batch: settings.batch });
    model.compile({ optimizer, loss, metrics: ['acc'] });
    return { model, history: [], start: 0, emaUpdates: 0 };
  }
  const ck = await readCheckpoint(latest.dir);
  const model = ck.model;
  try {
    verifyModel(model, graph, { probe: false });
  } catch (err) {
    if (err instanceof InternalError) throw new UserError(`the checkpoint in ${options.out} is not a model of ${options.arch}: ${err.message}`);
    throw err;
  }
  model.compile({ optimizer, loss, metrics: ['acc'] });
  if (ck.optimizerWeights.length > 0) await optimizer.setWeights(ck.optimizerWeights);
  let emaFrom: tf.Tensor[] | undefined;
  let emaUpdates = 0;
  if (settings.ema !== undefined && existsSync(join(latest.dir, 'ema', 'model.json'))) {
    const saved = await loadModel(join(latest.dir, 'ema'));
    emaFrom = saved.weights.map((w) => w.read().clone());
    saved.dispose();
    emaUpdates = (latest.state as RunState).emaUpdates ?? 0;
  }
  log(`resuming from ${latest.dir} after epoch ${latest.state.epoch}`);
  return { model, history: latest.state.history as TrainEpochRecord[], start: latest.state.epoch, emaFrom, emaUpdates };
}
