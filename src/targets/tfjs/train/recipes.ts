import { RECIPE_NAMES, recipeEntries, resolveRecipe as resolveShared, type RecipeName } from '../../../training/recipes.js';
import type { TrainOptions } from './train.js';

export { RECIPE_NAMES, type RecipeName };

type RecipeSettings = Pick<
  TrainOptions,
  'batch' | 'lr' | 'optimizer' | 'momentum' | 'weightDecay' | 'schedule' | 'warmup' | 'schedulePer' | 'stepSize' | 'gamma' | 'labelSmoothing' | 'augment'
>;

/**
 * The recipes of src/training/recipes.json (shared with the PyTorch engine) as TrainOptions:
 * the flags' lrStepSize and lrGamma are TrainOptions' stepSize and gamma. See that file for
 * what each recipe is (torchvision's references, the common CIFAR ResNet recipe).
 */
export function resolveRecipe(name: string, epochs: number): RecipeSettings {
  const { lrStepSize, lrGamma, ...rest } = resolveShared(name, epochs);
  return { ...rest, ...(lrStepSize !== undefined ? { stepSize: lrStepSize } : {}), ...(lrGamma !== undefined ? { gamma: lrGamma } : {}) };
}

/** Every recipe, as a function of the run's epochs. */
export const RECIPES: Record<RecipeName, (epochs: number) => RecipeSettings> = Object.fromEntries(
  RECIPE_NAMES.map((n) => [n, (epochs: number) => resolveRecipe(n, epochs)]),
) as Record<RecipeName, (epochs: number) => RecipeSettings>;

/** The one-line description of each recipe, from the file. */
export const recipeAbout = (name: RecipeName) => recipeEntries()[name].about;
