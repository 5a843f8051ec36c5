/**
 * The learning-rate schedules of both engines (python/skipgraph_train_recipe.py's lr_at is this
 * function line for line; test/targets/torch/train_recipe_parity.test.ts compares them).
 */
import { UserError } from '../errors/index.js';

export const SCHEDULES = ['cosine', 'constant', 'step', 'multistep', 'onecycle'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export function checkSchedule(name: string): Schedule {
  if (!(SCHEDULES as readonly string[]).includes(name)) throw new UserError(`unknown schedule '${name}'; use ${SCHEDULES.join(', ')}`);
  return name as Schedule;
}

export interface ScheduleOptions {
  schedule: Schedule;
  /** The base (peak) learning rate. */
  lr: number;
  epochs: number;
  stepsPerEpoch: number;
  /** 'step' (default): the rate changes every step, at fractional epochs; 'epoch': once per epoch, as torchvision's scheduler.step() per epoch. */
  per?: 'step' | 'epoch';
  /** Linear warm-up epochs (torchvision's --lr-warmup-epochs, LinearLR); default 0. */
  warmup?: number;
  /** The warm-up's starting factor (torchvision's --lr-warmup-decay); default 0.01. */
  warmupFactor?: number;
  /** step: the decay every stepSize epochs (StepLR; default 30) by gamma (default 0.1). */
  stepSize?: number;
  gamma?: number;
  /** multistep: epochs at which the rate is multiplied by gamma (MultiStepLR). */
  milestones?: number[];
  /** cosine: the final rate (eta_min); default 0. */
  minLr?: number;
  /** onecycle (OneCycleLR): div_factor 25, final_div_factor 1e4, pct_start 0.3 (or warmup / epochs). */
  divFactor?: number;
  finalDivFactor?: number;
  pctStart?: number;
}

/** Throws a UserError for settings that do not make a schedule. */
export function checkScheduleOptions(o: ScheduleOptions): void {
  checkSchedule(o.schedule);
  const warmup = o.warmup ?? 0;
  if (!(warmup >= 0 && Number.isFinite(warmup))) throw new UserError(`--warmup must be 0 or a positive number of epochs, not ${warmup}`);
  if (warmup > 0 && warmup >= o.epochs && o.schedule !== 'constant') throw new UserError(`--warmup ${warmup} must be shorter than the run (--epochs ${o.epochs})`);
  const f = o.warmupFactor ?? 0.01;
  if (!(f > 0 && f <= 1)) throw new UserError(`the warm-up factor must be in (0, 1], not ${f}`);
  if (o.per !== undefined && o.per !== 'step' && o.per !== 'epoch') throw new UserError(`--schedule-per must be 'step' or 'epoch', not '${o.per}'`);
  if (o.stepSize !== undefined && !(o.stepSize > 0)) throw new UserError(`--lr-step-size must be a positive number of epochs, not ${o.stepSize}`);
  if (o.gamma !== undefined && !(o.gamma > 0)) throw new UserError(`--lr-gamma must be a positive number, not ${o.gamma}`);
  if (o.schedule === 'multistep' && !(o.milestones && o.milestones.length > 0)) throw new UserError('the multistep schedule needs --milestones, e.g. --milestones 30,60,80');
  for (const m of o.milestones ?? []) if (!(m > 0)) throw new UserError(`--milestones must be positive epochs, not ${m}`);
}

const cosAnneal = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/**
 * The learning rate at global step `step` (0-based; step k of epoch e is e * stepsPerEpoch + k).
 * t is the time in epochs: step / stepsPerEpoch, or its whole part per epoch.
 * - Warm-up (t < W): lr * (f + (1 - f) * t / W), torchvision's LinearLR(start_factor=f, total_iters=W).
 * - cosine: minLr + (lr - minLr) (1 + cos(pi (t - W) / (E - W))) / 2, CosineAnnealingLR(T_max = E - W) after the warm-up.
 * - step: lr * gamma^floor(t / stepSize); multistep: lr * gamma^(milestones <= t); both on the
 *   run's epochs, warm-up included (timm's step and multistep schedulers).
 * - onecycle: PyTorch's OneCycleLR (cos annealing) over the run's steps (or epochs), the rise
 *   lasting pctStart of it (warmup / epochs when warmup is given); its own warm-up.
 * A function of the step alone, so a resumed run follows the same curve.
 */
export function lrAt(o: ScheduleOptions, step: number): number {
  const per = o.per ?? 'step';
  const S = Math.max(1, o.stepsPerEpoch);
  const E = o.epochs;
  const t = per === 'epoch' ? Math.floor(step / S) : step / S;
  const W = o.warmup ?? 0;
  if (o.schedule === 'onecycle') {
    const total = per === 'epoch' ? E : E * S;
    const s = per === 'epoch' ? Math.floor(step / S) : step;
    const pct = W > 0 ? W / E : (o.pctStart ?? 0.3);
    const initial = o.lr / (o.divFactor ?? 25);
    const min = initial / (o.finalDivFactor ?? 1e4);
    const end1 = pct * total - 1;
    const end2 = total - 1;
    if (s <= end1) return cosAnneal(initial, o.lr, end1 > 0 ? s / end1 : 1);
    return cosAnneal(o.lr, min, Math.min(1, (s - end1) / (end2 - end1)));
  }
  if (t < W) {
    const f = o.warmupFactor ?? 0.01;
    return o.lr * (f + ((1 - f) * t) / W);
  }
  switch (o.schedule) {
    case 'constant':
      return o.lr;
    case 'cosine': {
      const min = o.minLr ?? 0;
      const span = E - W;
      if (span <= 0) return o.lr;
      return cosAnneal(o.lr, min, Math.min(t - W, span) / span);
    }
    case 'step':
      return o.lr * Math.pow(o.gamma ?? 0.1, Math.floor(t / (o.stepSize ?? 30)));
    case 'multistep':
      return o.lr * Math.pow(o.gamma ?? 0.1, (o.milestones ?? []).filter((m) => m <= t).length);
  }
}

/**
 * The learning rate at global step `step` of `total`: constant, or cosine annealing from `base`
 * to 0 per step (PyTorch's CosineAnnealingLR with T_max = total steps, eta_min = 0). Kept for
 * scripts; lrAt is the general form.
 */
export function learningRateAt(schedule: Schedule, base: number, step: number, total: number): number {
  if (total <= 0) return base;
  return lrAt({ schedule, lr: base, epochs: 1, stepsPerEpoch: total }, Math.min(step, total));
}
