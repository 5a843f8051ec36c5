import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../../../io/atomic.js'; // renames over the name: never writes through a link
import { join } from 'node:path';
import { augments, type AugmentOptions } from '../../../data/augment.js';
import type { TrainTestSplit } from '../../../data/index.js';
import { UserError } from '../../../errors/index.js';
import type { EpochRecord } from '../../../training/record.js';
import { describeBackend, selectBackend, type BackendReport } from '../backend.js';
import { buildModel } from '../build.js';
import { DataLoader } from '../data/loader.js';
import { registerFileRouters } from '../io/file_io.js';
import { saveModel } from '../io/model_files.js';
import { WeightEma } from './ema.js';
import { evaluate, formatConfusion, type Evaluation } from './evaluate.js';
import { runEpochs } from './loop.js';
import { RecipeOptimizer, smoothedCrossEntropy } from './optimizer.js';
import { silentProgress, type TrainProgress } from './progress.js';
import type { RecipeName } from './recipes.js';
import { confusionSvg, curvesSvg, historyCsv } from './report.js';
import { describeAugment, describeSettings, positiveInt, resolveSettings, scheduleOf, type TrainSettings } from './settings.js';
import { compileArch, runData, startModel, type RunState } from './start.js';

export { describeAugment, describeSettings, resolveSettings, type TrainSettings } from './settings.js';

export interface TrainOptions {
  /** The architecture YAML file. */
  arch: string;
  /** `--set` overrides for the architecture. */
  sets?: string[];
  /** 'mnist' (default), 'cifar10-bin:DIR' or 'imagefolder:DIR' (DIR/train, DIR/val). */
  data?: string;
  /** Total epochs (a resumed run continues up to this many). */
  epochs: number;
  /**
   * A preset of torchvision's reference settings ('cifar-resnet', 'imagenet-resnet'); every
   * other option given overrides it. See RECIPES.
   */
  recipe?: RecipeName | string;
  /** Batch size (default 64). */
  batch?: number;
  /** The base (peak) learning rate (default 0.1). */
  lr?: number;
  /** 'sgd' (default), 'adam' or 'adamw'. */
  optimizer?: string;
  /** SGD momentum (default 0.9) and Nesterov (default false). */
  momentum?: number;
  nesterov?: boolean;
  /** Weight decay, PyTorch's: coupled L2 for sgd and adam, decoupled for adamw (default 0). */
  weightDecay?: number;
  /** Decay biases and batch-norm parameters too (default false: timm's no_weight_decay for rank <= 1). */
  decayAll?: boolean;
  /** Clip the global gradient norm (default: no clipping). */
  clipGrad?: number;
  /** 'cosine' (default), 'constant', 'step', 'multistep' or 'onecycle'. */
  schedule?: string;
  /** Linear warm-up epochs (default 0) from warmupFactor (0.01) of the rate. */
  warmup?: number;
  warmupFactor?: number;
  /** 'step' (default): the rate changes every step; 'epoch': once per epoch. */
  schedulePer?: 'step' | 'epoch';
  /** step: every stepSize epochs (30) by gamma (0.1); multistep: at these epochs. */
  stepSize?: number;
  gamma?: number;
  milestones?: number[];
  /** Label smoothing of the cross-entropy (default 0). */
  labelSmoothing?: number;
  /** Augmentation of the training split: a --augment string ('crop+flip', ...) or options (default none). */
  augment?: string | AugmentOptions;
  /** Drop the last partial training batch (default false). */
  dropLast?: boolean;
  /** EMA decay of the weights (e.g. 0.999): evaluated each epoch and saved in OUT/ema/. Default off. */
  ema?: number;
  /** timm's EMA warm-up of the decay (default false). */
  emaWarmup?: boolean;
  /** Output folder: checkpoints, the final model.json + weights.bin, history, reports. */
  out: string;
  resume?: boolean;
  /** A backend to force (else SKIPGRAPH_BACKEND, else the best present). */
  backend?: string;
  /** Seeds initialisation, the per-epoch shuffles and the augmentation (default 0). */
  seed?: number;
  zeroInitResidual?: boolean;
  /** Use only the first N training / held-out samples (quick runs). */
  trainLimit?: number;
  testLimit?: number;
  /** Data already in memory (instead of `data`). */
  dataset?: TrainTestSplit;
  /** Class names for the confusion matrix (default: the indices). */
  classNames?: string[];
  /** Aborting it stops training after the current epoch (and its checkpoint): an interruption that --resume continues exactly. */
  stop?: AbortSignal;
  /** Text lines (backend report, settings, one line per epoch, the confusion matrix). */
  log?: (line: string) => void;
  progress?: TrainProgress;
}

/** One epoch of the history: the shared EpochRecord (src/training) with the TF.js engine's fields filled. */
export interface TrainEpochRecord extends EpochRecord {
  valTop5: number;
  lr: number;
}

export interface TrainResult {
  backend: BackendReport;
  /** Every epoch so far, including those of the run this one resumed. */
  history: TrainEpochRecord[];
  /** Epochs that were already done when this call started. */
  startEpoch: number;
  /** Held-out top-1 accuracy after the last epoch. */
  valAcc: number;
  /** The final evaluation of the held-out images (and of the EMA weights when kept). */
  evaluation?: Evaluation;
  emaEvaluation?: Evaluation;
  /** The final model: OUT/model.json (+ weights.bin); the EMA model: OUT/ema/model.json. */
  modelPath: string;
  model: tf.LayersModel;
  emaModelPath?: string;
  emaModel?: tf.LayersModel;
  /** The settings the run used (recipe resolved, defaults filled in). */
  settings: TrainSettings;
}

/**
 * Trains a compiled architecture with model.fitDataset: the recipe's data loader (seeded
 * shuffle, augmentation), optimizer (weight decay, clipping), schedule with warm-up, label
 * smoothing and EMA; top-1/top-5 on the held-out images each epoch, a checkpoint each epoch,
 * resume; history.csv, curves.svg and confusion.svg in OUT at the end. The phases: settings
 * (settings.ts), data and model (start.ts), epochs (loop.ts), reports (below).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const epochs = positiveInt('--epochs', options.epochs);
  const settings = resolveSettings(options);
  const { batch, seed } = settings;

  const graph = compileArch(options.arch, options.sets ?? []);
  const backend = await selectBackend({ force: options.backend });
  for (const line of describeBackend(backend)) log(line);
  registerFileRouters();
  const { data, classNames } = runData(options, graph);

  const optimizer = new RecipeOptimizer(settings.optimizer, settings.lr, {
    momentum: settings.momentum,
    nesterov: settings.nesterov,
    weightDecay: settings.weightDecay,
    decayAll: settings.decayAll,
    clipGradNorm: settings.clipGrad,
  });
  const { model, history, start, emaFrom, emaUpdates } = await startModel(options, graph, settings, optimizer, smoothedCrossEntropy(settings.labelSmoothing), log);
  log(`${graph.name}: ${graph.totals.trainableParams.toLocaleString('en-US')} trainable params; ${data.train.name}: ${data.train.count} training, ${data.test.count} held-out images`);
  log(describeSettings(settings));

  let ema: WeightEma | undefined;
  let emaModel: tf.LayersModel | undefined;
  if (settings.ema !== undefined) {
    ema = new WeightEma(model, settings.ema, { warmup: settings.emaWarmup, from: emaFrom, updates: emaUpdates });
    tf.dispose(emaFrom ?? []);
    emaModel = buildModel(graph, { seed });
  }
  const state = (epoch: number): RunState => ({
    epoch,
    arch: options.arch,
    data: options.dataset ? data.train.name : (options.data ?? 'mnist'),
    batch,
    lr: settings.lr,
    optimizer: settings.optimizer,
    schedule: settings.schedule,
    seed,
    backend: backend.choice,
    history,
    settings,
    emaUpdates: ema?.updates,
    ...(classNames ? { classes: classNames } : {}),
  });

  const loader = new DataLoader(data.train, { batchSize: batch, shuffle: true, seed, dropLast: settings.dropLast, augment: settings.augment, prefetch: 1 });
  if (loader.length === 0) throw new UserError(`--drop-last with --batch ${batch} leaves no batch of the ${data.train.count} training images`);
  if (augments(settings.augment) && start === 0) log(`augmenting the training images: ${describeAugment(settings.augment)}`);
  let evaluation: Evaluation | undefined;
  let emaEvaluation: Evaluation | undefined;
  if (start < epochs) {
    const schedule = scheduleOf(settings, epochs, loader.length);
    ({ evaluation, emaEvaluation } = await runEpochs({ model, optimizer, loader, schedule, test: data.test, history, start, epochs, out: options.out, ema, emaModel, state, stop: options.stop, log, progress: options.progress ?? silentProgress }));
  } else {
    log(`${options.out} already has ${start} of ${epochs} epochs; nothing to train`);
  }
  evaluation ??= await evaluate(model, data.test);
  if (ema !== undefined && emaModel !== undefined && emaEvaluation === undefined) {
    ema.copyTo(emaModel);
    emaEvaluation = await evaluate(emaModel, data.test);
  }
  const emaModelPath = await writeReports(options.out, { model, emaModel, history, evaluation, classNames, graphName: graph.name, state: state(Math.max(start, history.length)), log });
  ema?.dispose();
  const last = history[history.length - 1];
  return { backend, history, startEpoch: start, valAcc: last?.valAcc ?? evaluation.top1, evaluation, emaEvaluation, modelPath: join(options.out, 'model.json'), model, emaModelPath, emaModel, settings };
}

/** The final model (and EMA model), history.json/.csv, curves.svg, confusion.svg, and the confusion lines. Returns the EMA model's path. */
async function writeReports(
  out: string,
  r: { model: tf.LayersModel; emaModel?: tf.LayersModel; history: TrainEpochRecord[]; evaluation: Evaluation; classNames?: string[]; graphName: string; state: RunState; log: (line: string) => void },
): Promise<string | undefined> {
  await saveModel(r.model, out);
  let emaModelPath: string | undefined;
  if (r.emaModel !== undefined) {
    await saveModel(r.emaModel, join(out, 'ema'));
    emaModelPath = join(out, 'ema', 'model.json');
  }
  writeFileAtomic(join(out, 'history.json'), JSON.stringify(r.state, null, 2));
  writeFileAtomic(join(out, 'history.csv'), historyCsv(r.history));
  writeFileAtomic(join(out, 'curves.svg'), curvesSvg(r.history, r.graphName));
  writeFileAtomic(join(out, 'confusion.svg'), confusionSvg(r.evaluation, r.classNames));
  const e = r.evaluation;
  r.log(`held-out top-1 ${(100 * e.top1).toFixed(2)}%, top-5 ${(100 * e.top5).toFixed(2)}%; confusion (rows: true class, columns: predicted):`);
  if (e.confusion.length <= 20) for (const line of formatConfusion(e, r.classNames)) r.log(line);
  else r.log(`(${e.confusion.length} classes: see confusion.svg)`);
  r.log(`reports: ${['history.csv', 'curves.svg', 'confusion.svg'].map((f) => join(out, f)).join(', ')}`);
  return emaModelPath;
}

export { RECIPE_NAMES, RECIPES, resolveRecipe } from './recipes.js';
