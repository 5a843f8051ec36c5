import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../../io/atomic.js'; // renames over the name: never writes through a link
import { join } from 'node:path';
import { compileFile, type CompiledGraph } from '../../../compiler/index.js';
import { formatDiagnostics } from '../../../parser/index.js';
import { describeBackend, selectBackend, type BackendReport } from '../backend.js';
import { buildModel } from '../build.js';
import { augments, parseAugment, type AugmentOptions } from '../../../data/augment.js';
import { loadData, subset, type ImageSet, type TrainTestSplit } from '../../../data/index.js';
import { DataLoader } from '../data/loader.js';
import { InternalError, UserError } from '../../../errors/index.js';
import { registerFileRouters } from '../io/file_io.js';
import { loadModel, saveModel } from '../io/model_files.js';
import { verifyModel } from '../verify.js';
import { identityOrder } from './batches.js';
import { latestCheckpoint, readCheckpoint, writeCheckpoint, type EpochRecord, type TrainState } from './checkpoint.js';
import { WeightEma } from './ema.js';
import { evaluate, formatConfusion, type Evaluation } from './evaluate.js';
import { checkOptimizer, RecipeOptimizer, smoothedCrossEntropy } from './optimizer.js';
import { silentProgress, type TrainProgress } from './progress.js';
import { epochLine } from '../../../training/format.js';
import { resolveRecipe, type RecipeName } from './recipes.js';
import { confusionSvg, curvesSvg, historyCsv } from './report.js';
import { checkSchedule, checkScheduleOptions, lrAt, type ScheduleOptions } from './schedule.js';

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

/** One epoch of the history: EpochRecord's fields and the recipe's. */
export interface TrainEpochRecord extends EpochRecord {
  valTop5: number;
  lr: number;
  emaValLoss?: number;
  emaValAcc?: number;
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

/** Every training setting, resolved. */
export interface TrainSettings {
  recipe?: string;
  batch: number;
  lr: number;
  optimizer: string;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  decayAll: boolean;
  clipGrad?: number;
  schedule: ScheduleOptions['schedule'];
  warmup: number;
  warmupFactor: number;
  schedulePer: 'step' | 'epoch';
  stepSize: number;
  gamma: number;
  milestones: number[];
  labelSmoothing: number;
  augment: AugmentOptions;
  dropLast: boolean;
  ema?: number;
  emaWarmup: boolean;
  seed: number;
}

const DEFAULTS = { batch: 64, lr: 0.1, optimizer: 'sgd', schedule: 'cosine', seed: 0 };

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new UserError(`${name} must be a positive whole number, not ${v}`);
  return v;
}

function compileArch(arch: string, sets: string[]): CompiledGraph {
  const r = compileFile(arch, { sets });
  if (r.graph === undefined) {
    const text = formatDiagnostics(r.diagnostics, { sources: r.sources, color: false }, r.dropped);
    throw new UserError(`${arch} does not compile:\n${text}`);
  }
  return r.graph;
}

function checkFits(graph: CompiledGraph, set: ImageSet, arch: string): void {
  const { height, width, channels } = graph.input;
  if (height !== set.height || width !== set.width || channels !== set.channels || graph.classes !== set.classes) {
    throw new UserError(
      `${arch} takes ${height}x${width}x${channels} images and ${graph.classes} classes, but ${set.name} has ` +
        `${set.height}x${set.width}x${set.channels} and ${set.classes}; adjust the file or use --set input.height=... ` +
        `--set input.width=... --set input.channels=... --set classes=...`,
    );
  }
}

/** The options with the recipe applied under them and the defaults filled in; throws a UserError for bad values. */
export function resolveSettings(options: Omit<TrainOptions, 'arch' | 'out'>): TrainSettings {
  const r = options.recipe === undefined ? {} : resolveRecipe(options.recipe, options.epochs);
  const pick = <K extends keyof TrainOptions>(k: K): TrainOptions[K] | undefined => ((options as Partial<TrainOptions>)[k] !== undefined ? (options as Partial<TrainOptions>)[k] : (r as Partial<TrainOptions>)[k]);
  const augmentSpec = pick('augment');
  const augment = augmentSpec === undefined ? {} : typeof augmentSpec === 'string' ? parseAugment(augmentSpec) : augmentSpec;
  const s: TrainSettings = {
    recipe: options.recipe,
    batch: positiveInt('--batch', pick('batch') ?? DEFAULTS.batch),
    lr: pick('lr') ?? DEFAULTS.lr,
    optimizer: pick('optimizer') ?? DEFAULTS.optimizer,
    momentum: pick('momentum') ?? 0.9,
    nesterov: pick('nesterov') ?? false,
    weightDecay: pick('weightDecay') ?? 0,
    decayAll: pick('decayAll') ?? false,
    clipGrad: pick('clipGrad'),
    schedule: checkSchedule(pick('schedule') ?? DEFAULTS.schedule),
    warmup: pick('warmup') ?? 0,
    warmupFactor: pick('warmupFactor') ?? 0.01,
    schedulePer: pick('schedulePer') ?? 'step',
    stepSize: pick('stepSize') ?? 30,
    gamma: pick('gamma') ?? 0.1,
    milestones: pick('milestones') ?? [],
    labelSmoothing: pick('labelSmoothing') ?? 0,
    augment,
    dropLast: pick('dropLast') ?? false,
    ema: pick('ema'),
    emaWarmup: pick('emaWarmup') ?? false,
    seed: options.seed ?? DEFAULTS.seed,
  };
  checkOptimizer(s.optimizer, s.lr);
  // the optimizer's and loss's own checks, before any slow work
  RecipeOptimizer.check(s.optimizer, s.lr, { momentum: s.momentum, nesterov: s.nesterov, weightDecay: s.weightDecay, clipGradNorm: s.clipGrad });
  smoothedCrossEntropy(s.labelSmoothing);
  if (s.ema !== undefined && !(s.ema > 0 && s.ema < 1)) throw new UserError(`--ema must be a decay in (0, 1), e.g. 0.999, not ${s.ema}`);
  checkScheduleOptions(scheduleOf(s, options.epochs, 1));
  return s;
}

function scheduleOf(s: TrainSettings, epochs: number, stepsPerEpoch: number): ScheduleOptions {
  return { schedule: s.schedule, lr: s.lr, epochs, stepsPerEpoch, per: s.schedulePer, warmup: s.warmup, warmupFactor: s.warmupFactor, stepSize: s.stepSize, gamma: s.gamma, milestones: s.milestones };
}

/** A one-line summary of the settings. */
export function describeSettings(s: TrainSettings): string {
  const parts = [
    s.recipe ? `recipe ${s.recipe}:` : 'settings:',
    `${s.optimizer}${s.optimizer === 'sgd' ? ` momentum ${s.momentum}${s.nesterov ? ' nesterov' : ''}` : ''}`,
    `lr ${s.lr} ${s.schedule}${s.schedule === 'step' ? ` (${s.stepSize}, ${s.gamma})` : ''}${s.schedule === 'multistep' ? ` (${s.milestones.join(',')}; ${s.gamma})` : ''} per ${s.schedulePer}`,
    s.warmup > 0 ? `warm-up ${s.warmup} epoch${s.warmup === 1 ? '' : 's'}` : undefined,
    `batch ${s.batch}`,
    `weight decay ${s.weightDecay}${s.weightDecay > 0 && !s.decayAll ? ' (not on biases and batch-norm)' : ''}`,
    s.labelSmoothing > 0 ? `label smoothing ${s.labelSmoothing}` : undefined,
    `augment ${describeAugment(s.augment)}`,
    s.ema !== undefined ? `EMA ${s.ema}` : undefined,
    s.clipGrad !== undefined ? `clip ${s.clipGrad}` : undefined,
  ];
  const [head, ...rest] = parts.filter((p) => p !== undefined);
  return `${head} ${rest.join(', ')}`;
}

export function describeAugment(a: AugmentOptions): string {
  const w: string[] = [];
  if (a.crop) w.push(`crop:${a.crop.padding}`);
  if (a.resizedCrop) w.push(`rrc:${a.resizedCrop.scale?.[0] ?? 0.08}`);
  if (a.flip) w.push(`flip:${a.flip}`);
  if (a.mixup) w.push(`mixup:${a.mixup}`);
  if (a.cutmix) w.push(`cutmix:${a.cutmix}`);
  return w.length === 0 ? 'none' : w.join('+');
}

type RunState = TrainState & { settings: TrainSettings; emaUpdates?: number };

/**
 * Trains a compiled architecture with model.fitDataset: the recipe's data loader (seeded
 * shuffle, augmentation), optimizer (weight decay, clipping), schedule with warm-up, label
 * smoothing and EMA; top-1/top-5 on the held-out images each epoch, a checkpoint each epoch,
 * resume; history.csv, curves.svg and confusion.svg in OUT at the end.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const progress = options.progress ?? silentProgress;
  const epochs = positiveInt('--epochs', options.epochs);
  const settings = resolveSettings(options);
  const { batch, lr, seed } = settings;
  const dataSpec = options.data ?? 'mnist';

  const graph = compileArch(options.arch, options.sets ?? []);
  const backend = await selectBackend({ force: options.backend });
  for (const line of describeBackend(backend)) log(line);
  registerFileRouters();

  let data = options.dataset ?? loadData(dataSpec, {}, graph.input);
  const classNames = options.classNames ?? (data as { classNames?: string[] }).classNames;
  if (options.trainLimit !== undefined) data = { ...data, train: subset(data.train, identityOrder(Math.min(data.train.count, options.trainLimit))) };
  if (options.testLimit !== undefined) data = { ...data, test: subset(data.test, identityOrder(Math.min(data.test.count, options.testLimit))) };
  checkFits(graph, data.train, options.arch);

  const latest = latestCheckpoint(options.out);
  if (latest !== undefined && !options.resume) {
    throw new UserError(`${options.out} already holds a training run (epoch ${latest.state.epoch}); add --resume to continue it, or choose another --out`);
  }
  if (options.resume && latest === undefined) throw new UserError(`--resume: no checkpoint in ${options.out}`);

  const optimizer = new RecipeOptimizer(settings.optimizer, lr, {
    momentum: settings.momentum,
    nesterov: settings.nesterov,
    weightDecay: settings.weightDecay,
    decayAll: settings.decayAll,
    clipGradNorm: settings.clipGrad,
  });
  const loss = smoothedCrossEntropy(settings.labelSmoothing);
  let model: tf.LayersModel;
  let history: TrainEpochRecord[] = [];
  let start = 0;
  let emaFrom: tf.Tensor[] | undefined;
  let emaUpdates = 0;
  if (latest !== undefined) {
    const ck = await readCheckpoint(latest.dir);
    model = ck.model;
    try {
      verifyModel(model, graph, { probe: false });
    } catch (err) {
      if (err instanceof InternalError) throw new UserError(`the checkpoint in ${options.out} is not a model of ${options.arch}: ${err.message}`);
      throw err;
    }
    history = latest.state.history as TrainEpochRecord[];
    start = latest.state.epoch;
    model.compile({ optimizer, loss, metrics: ['acc'] });
    if (ck.optimizerWeights.length > 0) await optimizer.setWeights(ck.optimizerWeights);
    if (settings.ema !== undefined && existsSync(join(latest.dir, 'ema', 'model.json'))) {
      const saved = await loadModel(join(latest.dir, 'ema'));
      emaFrom = saved.weights.map((w) => w.read().clone());
      saved.dispose();
      emaUpdates = (latest.state as RunState).emaUpdates ?? 0;
    }
    log(`resuming from ${latest.dir} after epoch ${start}`);
  } else {
    // The real batch sizes the activation check, before anything is allocated.
    model = buildModel(graph, { seed, zeroInitResidual: options.zeroInitResidual, batch });
    model.compile({ optimizer, loss, metrics: ['acc'] });
  }
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
    data: options.dataset ? data.train.name : dataSpec,
    batch,
    lr,
    optimizer: settings.optimizer,
    schedule: settings.schedule,
    seed,
    backend: backend.choice,
    history,
    settings,
    emaUpdates: ema?.updates,
  });

  const loader = new DataLoader(data.train, { batchSize: batch, shuffle: true, seed, dropLast: settings.dropLast, augment: settings.augment, prefetch: 1 });
  const batchesPerEpoch = loader.length;
  if (batchesPerEpoch === 0) throw new UserError(`--drop-last with --batch ${batch} leaves no batch of the ${data.train.count} training images`);
  const schedule = scheduleOf(settings, epochs, batchesPerEpoch);
  if (augments(settings.augment) && start === 0) log(`augmenting the training images: ${describeAugment(settings.augment)}`);
  let evaluation: Evaluation | undefined;
  let emaEvaluation: Evaluation | undefined;

  if (start < epochs) {
    let epochNow = start;
    const trainSet = loader.dataset(() => epochNow);
    let t0 = 0;
    let trainSeconds = 0;
    let seen = 0;
    let lossSum = 0;
    let accSum = 0;
    let epochLr = lr;
    await model.fitDataset(trainSet, {
      epochs,
      initialEpoch: start,
      yieldEvery: 'batch', // lets Ctrl-C (SIGINT) and timers in between batches
      verbose: 0,
      callbacks: {
        onEpochBegin: async (epoch) => {
          epochNow = epoch;
          seen = lossSum = accSum = 0;
          progress.epochStart(epoch + 1, epochs, batchesPerEpoch);
          t0 = performance.now();
        },
        onBatchBegin: async (index) => {
          const rate = lrAt(schedule, epochNow * batchesPerEpoch + index);
          if (index === 0) epochLr = rate;
          optimizer.setLearningRate(rate);
        },
        onBatchEnd: async (index, logs) => {
          ema?.update();
          const size = (logs?.size as number) ?? batch;
          seen += size;
          lossSum += (logs?.loss as number) * size;
          accSum += (logs?.acc as number) * size;
          trainSeconds = (performance.now() - t0) / 1000;
          progress.batch(index + 1, { loss: lossSum / seen, acc: accSum / seen, imagesPerSecond: seen / trainSeconds, lr: optimizer.learningRate, step: epochNow * batchesPerEpoch + index + 1, steps: epochs * batchesPerEpoch });
        },
        onEpochEnd: async (epoch) => {
          progress.epochEnd();
          const seconds = (performance.now() - t0) / 1000;
          evaluation = await evaluate(model, data.test);
          if (ema !== undefined && emaModel !== undefined) {
            ema.copyTo(emaModel);
            emaEvaluation = await evaluate(emaModel, data.test);
          }
          const record: TrainEpochRecord = {
            epoch: epoch + 1,
            loss: lossSum / seen,
            acc: accSum / seen,
            valLoss: evaluation.loss,
            valAcc: evaluation.top1,
            valTop5: evaluation.top5,
            lr: epochLr,
            seconds,
            imagesPerSecond: seen / trainSeconds,
            ...(emaEvaluation ? { emaValLoss: emaEvaluation.loss, emaValAcc: emaEvaluation.top1 } : {}),
          };
          history.push(record);
          log(epochLine(record, epochs));
          const dir = await writeCheckpoint(options.out, model, optimizer, state(epoch + 1));
          if (emaModel !== undefined) await saveModel(emaModel, join(dir, 'ema'));
          if (options.stop?.aborted && epoch + 1 < epochs) {
            log(`stopped after epoch ${epoch + 1}; --resume continues from here`);
            model.stopTraining = true;
          }
        },
      },
    });
  } else {
    log(`${options.out} already has ${start} of ${epochs} epochs; nothing to train`);
  }
  evaluation ??= await evaluate(model, data.test);
  if (ema !== undefined && emaModel !== undefined && emaEvaluation === undefined) {
    ema.copyTo(emaModel);
    emaEvaluation = await evaluate(emaModel, data.test);
  }
  await saveModel(model, options.out);
  let emaModelPath: string | undefined;
  if (emaModel !== undefined) {
    await saveModel(emaModel, join(options.out, 'ema'));
    emaModelPath = join(options.out, 'ema', 'model.json');
  }
  ema?.dispose();
  writeFileAtomic(join(options.out, 'history.json'), JSON.stringify(state(Math.max(start, history.length)), null, 2));
  writeFileAtomic(join(options.out, 'history.csv'), historyCsv(history));
  writeFileAtomic(join(options.out, 'curves.svg'), curvesSvg(history, graph.name));
  writeFileAtomic(join(options.out, 'confusion.svg'), confusionSvg(evaluation, classNames));
  log(`held-out top-1 ${(100 * evaluation.top1).toFixed(2)}%, top-5 ${(100 * evaluation.top5).toFixed(2)}%; confusion (rows: true class, columns: predicted):`);
  if (evaluation.confusion.length <= 20) for (const line of formatConfusion(evaluation, classNames)) log(line);
  else log(`(${evaluation.confusion.length} classes: see confusion.svg)`);
  log(`reports: ${['history.csv', 'curves.svg', 'confusion.svg'].map((f) => join(options.out, f)).join(', ')}`);
  const last = history[history.length - 1];
  return {
    backend,
    history,
    startEpoch: start,
    valAcc: last?.valAcc ?? evaluation.top1,
    evaluation,
    emaEvaluation,
    modelPath: join(options.out, 'model.json'),
    model,
    emaModelPath,
    emaModel,
    settings,
  };
}

export { RECIPE_NAMES, RECIPES, resolveRecipe } from './recipes.js';
