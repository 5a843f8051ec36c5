import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile, type CompiledGraph } from '../../compiler/index.js';
import { formatDiagnostics } from '../../parser/index.js';
import { describeBackend, selectBackend, type BackendReport } from '../backend.js';
import { buildModel } from '../build.js';
import { loadData, permutation, subset, type ImageSet, type TrainTestSplit } from '../data/index.js';
import { InternalError, UserError } from '../errors.js';
import { registerFileRouters } from '../io/file_io.js';
import { saveModel } from '../io/model_files.js';
import { verifyModel } from '../verify.js';
import { batches, identityOrder } from './batches.js';
import { latestCheckpoint, readCheckpoint, writeCheckpoint, type EpochRecord, type TrainState } from './checkpoint.js';
import { checkOptimizer, logitsCrossEntropy, makeOptimizer } from './optimizer.js';
import { checkSchedule, learningRateAt, setLearningRate } from './schedule.js';
import { silentProgress, type TrainProgress } from './progress.js';

export interface TrainOptions {
  /** The architecture YAML file. */
  arch: string;
  /** `--set` overrides for the architecture. */
  sets?: string[];
  /** 'mnist' (default) or 'cifar10-bin:DIR'. */
  data?: string;
  /** Total epochs (a resumed run continues up to this many). */
  epochs: number;
  batch?: number;
  lr?: number;
  optimizer?: string;
  /** 'cosine' (default: annealed to 0 over all epochs, per step) or 'constant'. */
  schedule?: string;
  /** Output folder: checkpoints, the final model.json + weights.bin, history.json. */
  out: string;
  resume?: boolean;
  /** A backend to force (else SKIPGRAPH_BACKEND, else the best present). */
  backend?: string;
  /** Seeds initialisation and the per-epoch shuffles (default 0). */
  seed?: number;
  zeroInitResidual?: boolean;
  /** Use only the first N training / held-out samples (quick runs). */
  trainLimit?: number;
  testLimit?: number;
  /** Data already in memory (instead of `data`). */
  dataset?: TrainTestSplit;
  /** Aborting it stops training after the current epoch (and its checkpoint): an interruption that --resume continues exactly. */
  stop?: AbortSignal;
  /** Text lines (backend report, one line per epoch). */
  log?: (line: string) => void;
  progress?: TrainProgress;
}

export interface TrainResult {
  backend: BackendReport;
  /** Every epoch so far, including those of the run this one resumed. */
  history: EpochRecord[];
  /** Epochs that were already done when this call started. */
  startEpoch: number;
  /** Held-out accuracy after the last epoch. */
  valAcc: number;
  /** The final model: OUT/model.json (+ weights.bin). */
  modelPath: string;
  model: tf.LayersModel;
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

/** Trains a compiled architecture with model.fitDataset: validation, a checkpoint each epoch, resume. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const progress = options.progress ?? silentProgress;
  const epochs = positiveInt('--epochs', options.epochs);
  const batch = positiveInt('--batch', options.batch ?? DEFAULTS.batch);
  const lr = options.lr ?? DEFAULTS.lr;
  const optimizerName = options.optimizer ?? DEFAULTS.optimizer;
  const seed = options.seed ?? DEFAULTS.seed;
  const dataSpec = options.data ?? 'mnist';
  const schedule = checkSchedule(options.schedule ?? DEFAULTS.schedule);
  checkOptimizer(optimizerName, lr); // before any slow work

  const graph = compileArch(options.arch, options.sets ?? []);
  const backend = await selectBackend({ force: options.backend });
  for (const line of describeBackend(backend)) log(line);
  registerFileRouters();

  let data = options.dataset ?? loadData(dataSpec);
  if (options.trainLimit !== undefined) data = { ...data, train: subset(data.train, identityOrder(Math.min(data.train.count, options.trainLimit))) };
  if (options.testLimit !== undefined) data = { ...data, test: subset(data.test, identityOrder(Math.min(data.test.count, options.testLimit))) };
  checkFits(graph, data.train, options.arch);

  const latest = latestCheckpoint(options.out);
  if (latest !== undefined && !options.resume) {
    throw new UserError(`${options.out} already holds a training run (epoch ${latest.state.epoch}); add --resume to continue it, or choose another --out`);
  }
  if (options.resume && latest === undefined) throw new UserError(`--resume: no checkpoint in ${options.out}`);

  const optimizer = makeOptimizer(optimizerName, lr);
  let model: tf.LayersModel;
  let history: EpochRecord[] = [];
  let start = 0;
  if (latest !== undefined) {
    const ck = await readCheckpoint(latest.dir);
    model = ck.model;
    try {
      verifyModel(model, graph, { probe: false });
    } catch (err) {
      if (err instanceof InternalError) throw new UserError(`the checkpoint in ${options.out} is not a model of ${options.arch}: ${err.message}`);
      throw err;
    }
    history = latest.state.history;
    start = latest.state.epoch;
    model.compile({ optimizer, loss: logitsCrossEntropy, metrics: ['acc'] });
    if (ck.optimizerWeights.length > 0) await optimizer.setWeights(ck.optimizerWeights);
    log(`resuming from ${latest.dir} after epoch ${start}`);
  } else {
    model = buildModel(graph, { seed, zeroInitResidual: options.zeroInitResidual });
    model.compile({ optimizer, loss: logitsCrossEntropy, metrics: ['acc'] });
  }
  log(`${graph.name}: ${graph.totals.params.toLocaleString('en-US')} parameters; ${data.train.name}: ${data.train.count} training, ${data.test.count} held-out images`);

  const state = (epoch: number): TrainState => ({
    epoch,
    arch: options.arch,
    data: options.dataset ? data.train.name : dataSpec,
    batch,
    lr,
    optimizer: optimizerName,
    schedule,
    seed,
    backend: backend.choice,
    history,
  });

  if (start < epochs) {
    let epochNow = start;
    const trainSet = tf.data.generator(() => batches(data.train, permutation(data.train.count, seed * 100_003 + epochNow), batch));
    const testSet = tf.data.generator(() => batches(data.test, identityOrder(data.test.count), 256));
    const batchesPerEpoch = Math.ceil(data.train.count / batch);
    let t0 = 0;
    let trainSeconds = 0;
    let seen = 0;
    let lossSum = 0;
    let accSum = 0;
    const totalSteps = epochs * batchesPerEpoch;
    await model.fitDataset(trainSet, {
      epochs,
      initialEpoch: start,
      validationData: testSet,
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
          setLearningRate(optimizer, learningRateAt(schedule, lr, epochNow * batchesPerEpoch + index, totalSteps));
        },
        onBatchEnd: async (index, logs) => {
          const size = (logs?.size as number) ?? batch;
          seen += size;
          lossSum += (logs?.loss as number) * size;
          accSum += (logs?.acc as number) * size;
          trainSeconds = (performance.now() - t0) / 1000;
          progress.batch(index + 1, { loss: lossSum / seen, acc: accSum / seen, imagesPerSecond: seen / trainSeconds });
        },
        onEpochEnd: async (epoch, logs) => {
          progress.epochEnd();
          const record: EpochRecord = {
            epoch: epoch + 1,
            loss: lossSum / seen,
            acc: accSum / seen,
            valLoss: logs?.val_loss as number,
            valAcc: logs?.val_acc as number,
            seconds: (performance.now() - t0) / 1000,
            imagesPerSecond: seen / trainSeconds,
          };
          history.push(record);
          log(
            `epoch ${record.epoch}/${epochs}: loss ${record.loss.toFixed(4)} acc ${(100 * record.acc).toFixed(2)}% | ` +
              `held-out loss ${record.valLoss.toFixed(4)} acc ${(100 * record.valAcc).toFixed(2)}% | ` +
              `${record.seconds.toFixed(1)} s, ${record.imagesPerSecond.toFixed(0)} img/s`,
          );
          await writeCheckpoint(options.out, model, optimizer, state(epoch + 1));
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
  await saveModel(model, options.out);
  writeFileSync(join(options.out, 'history.json'), JSON.stringify(state(Math.max(start, history.length)), null, 2));
  const last = history[history.length - 1];
  return {
    backend,
    history,
    startEpoch: start,
    valAcc: last?.valAcc ?? Number.NaN,
    modelPath: join(options.out, 'model.json'),
    model,
  };
}
