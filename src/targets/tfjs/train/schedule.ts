import * as tf from '@tensorflow/tfjs';

// The schedules live below the targets (src/training/schedule.ts): both engines follow them.
export { checkSchedule, checkScheduleOptions, learningRateAt, lrAt, SCHEDULES, type Schedule, type ScheduleOptions } from '../../../training/schedule.js';

/** Sets the rate of an SGD/momentum optimizer (setLearningRate) or Adam (its learningRate field). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
