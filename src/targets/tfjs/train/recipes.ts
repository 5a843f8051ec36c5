import { UserError } from '../../../errors/index.js';
import type { TrainOptions } from './train.js';

export const RECIPE_NAMES = ['cifar-resnet', 'imagenet-resnet'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

type RecipeSettings = Pick<
  TrainOptions,
  'batch' | 'lr' | 'optimizer' | 'momentum' | 'weightDecay' | 'schedule' | 'warmup' | 'schedulePer' | 'stepSize' | 'gamma' | 'labelSmoothing' | 'augment'
>;

/**
 * Presets after torchvision's classification references (references/classification/train.py)
 * and the common CIFAR ResNet recipe; every option given alongside overrides them.
 * - cifar-resnet: batch 128, SGD lr 0.1 momentum 0.9, weight decay 5e-4 (not on biases and
 *   batch-norm), 5 warm-up epochs (a quarter of the run when that is shorter) then cosine to 0
 *   per step, label smoothing 0.1, random crop with 4 pixels of padding and horizontal flips.
 * - imagenet-resnet: torchvision's ResNet recipe: batch 32 (per GPU; 8 GPUs make 256), SGD lr 0.1
 *   momentum 0.9, weight decay 1e-4, StepLR every 30 epochs by 0.1 per epoch, random-resized
 *   crop and horizontal flips.
 */
export const RECIPES: Record<RecipeName, (epochs: number) => RecipeSettings> = {
  'cifar-resnet': (epochs) => ({
    batch: 128,
    lr: 0.1,
    optimizer: 'sgd',
    momentum: 0.9,
    weightDecay: 5e-4,
    schedule: 'cosine',
    warmup: Math.min(5, Math.floor(epochs / 4)),
    schedulePer: 'step',
    labelSmoothing: 0.1,
    augment: 'crop:4+flip',
  }),
  'imagenet-resnet': () => ({
    batch: 32,
    lr: 0.1,
    optimizer: 'sgd',
    momentum: 0.9,
    weightDecay: 1e-4,
    schedule: 'step',
    stepSize: 30,
    gamma: 0.1,
    schedulePer: 'epoch',
    warmup: 0,
    labelSmoothing: 0,
    augment: 'rrc+flip',
  }),
};

export function resolveRecipe(name: string, epochs: number): RecipeSettings {
  if (!(RECIPE_NAMES as readonly string[]).includes(name)) throw new UserError(`unknown recipe '${name}'; use ${RECIPE_NAMES.join(' or ')}`);
  return RECIPES[name as RecipeName](epochs);
}
