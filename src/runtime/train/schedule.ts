import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';

export const SCHEDULES = ['cosine', 'constant'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export function checkSchedule(name: string): Schedule {
  if (!(SCHEDULES as readonly string[]).includes(name)) throw new UserError(`unknown schedule '${name}'; use ${SCHEDULES.join(' or ')}`);
  return name as Schedule;
}

/**
 * The learning rate at global step `step` of `total`: constant, or cosine annealing from `base`
 * to 0 per step (PyTorch's CosineAnnealingLR with T_max = total steps, eta_min = 0). A function of
 * the step alone, so a resumed run follows the same curve.
 */
export function learningRateAt(schedule: Schedule, base: number, step: number, total: number): number {
  if (schedule === 'constant' || total <= 0) return base;
  return 0.5 * base * (1 + Math.cos((Math.PI * Math.min(step, total)) / total));
}

/** Sets the rate of an SGD/momentum optimizer (setLearningRate) or Adam (its learningRate field). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
