/** The TF.js engine's training settings: the recipe (src/training/recipes.json) under the options, defaults filled in, checked. */
import { parseAugment, type AugmentOptions } from '../../../data/augment.js';
import { UserError } from '../../../errors/index.js';
import { checkScheduleOptions, checkSchedule, type ScheduleOptions } from '../../../training/schedule.js';
import { checkOptimizer, RecipeOptimizer, smoothedCrossEntropy } from './optimizer.js';
import { resolveRecipe } from './recipes.js';
import type { TrainOptions } from './train.js';

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

export function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new UserError(`${name} must be a positive whole number, not ${v}`);
  return v;
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

export function scheduleOf(s: TrainSettings, epochs: number, stepsPerEpoch: number): ScheduleOptions {
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

