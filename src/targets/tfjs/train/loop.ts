/**
 * The epochs of a TF.js run: model.fitDataset over the recipe's loader, the rate set before
 * each batch, the EMA after it, and at each epoch's end the evaluation, the epoch line and the
 * checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ImageSet } from '../../../data/index.js';
import { epochLine } from '../../../training/format.js';
import type { TrainProgress } from '../../../training/record.js';
import { lrAt, type ScheduleOptions } from '../../../training/schedule.js';
import type { DataLoader } from '../data/loader.js';
import { saveModel } from '../io/model_files.js';
import { writeCheckpoint } from './checkpoint.js';
import type { WeightEma } from './ema.js';
import { evaluate, type Evaluation } from './evaluate.js';
import type { RecipeOptimizer } from './optimizer.js';
import type { RunState } from './start.js';
import type { TrainEpochRecord } from './train.js';

export interface EpochsRun {
  model: tf.LayersModel;
  optimizer: RecipeOptimizer;
  loader: DataLoader;
  schedule: ScheduleOptions;
  test: ImageSet;
  history: TrainEpochRecord[];
  start: number;
  epochs: number;
  out: string;
  ema?: WeightEma;
  emaModel?: tf.LayersModel;
  state: (epoch: number) => RunState;
  stop?: AbortSignal;
  log: (line: string) => void;
  progress: TrainProgress;
}

/** Trains epochs start+1 .. epochs; returns the last evaluations (of the model and of the EMA). */
export async function runEpochs(r: EpochsRun): Promise<{ evaluation?: Evaluation; emaEvaluation?: Evaluation }> {
  const { model, optimizer, loader, schedule, epochs, progress, ema, emaModel } = r;
  const batchesPerEpoch = loader.length;
  let evaluation: Evaluation | undefined;
  let emaEvaluation: Evaluation | undefined;
  let epochNow = r.start;
  const trainSet = loader.dataset(() => epochNow);
  let t0 = 0;
  let trainSeconds = 0;
  let seen = 0;
  let lossSum = 0;
  let accSum = 0;
  let epochLr = schedule.lr;
  await model.fitDataset(trainSet, {
    epochs,
    initialEpoch: r.start,
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
        const size = (logs?.size as number) ?? loader.options.batchSize;
        seen += size;
        lossSum += (logs?.loss as number) * size;
        accSum += (logs?.acc as number) * size;
        trainSeconds = (performance.now() - t0) / 1000;
        const step = epochNow * batchesPerEpoch + index + 1;
        progress.batch(index + 1, { loss: lossSum / seen, acc: accSum / seen, imagesPerSecond: seen / trainSeconds, lr: optimizer.learningRate, step, steps: epochs * batchesPerEpoch });
      },
      onEpochEnd: async (epoch) => {
        progress.epochEnd();
        const seconds = (performance.now() - t0) / 1000;
        evaluation = await evaluate(model, r.test);
        if (ema !== undefined && emaModel !== undefined) {
          ema.copyTo(emaModel);
          emaEvaluation = await evaluate(emaModel, r.test);
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
        r.history.push(record);
        r.log(epochLine(record, epochs));
        const dir = await writeCheckpoint(r.out, model, optimizer, r.state(epoch + 1));
        if (emaModel !== undefined) await saveModel(emaModel, join(dir, 'ema'));
        if (r.stop?.aborted && epoch + 1 < epochs) {
          r.log(`stopped after epoch ${epoch + 1}; --resume continues from here`);
          model.stopTraining = true;
        }
      },
    },
  });
  return { evaluation, emaEvaluation };
}
