/**
 * The recipes, as data: recipes.json beside this file, read by both engines (here for TF.js and
 * the CLI; python/skipgraph_train_recipe.py for PyTorch). The path is the package's
 * src/training/recipes.json from both src/training and dist/training, and --prepare copies the
 * file beside the Python script.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors/index.js';
import type { RecipeFlags } from './flags.js';

/** The file (src/training/recipes.json at the package root: two levels above src/training and dist/training). */
export const RECIPE_FILE = fileURLToPath(new URL('../../src/training/recipes.json', import.meta.url));

export const RECIPE_NAMES = ['cifar-resnet', 'imagenet-resnet'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

/** A recipe's settings, by flag name (camelCase). */
export type RecipeSettings = Pick<RecipeFlags, 'batch' | 'lr' | 'optimizer' | 'momentum' | 'weightDecay' | 'schedule' | 'warmup' | 'schedulePer' | 'lrStepSize' | 'lrGamma' | 'labelSmoothing' | 'augment'>;

interface RecipeEntry {
  about: string;
  settings: RecipeSettings;
  /** The warm-up is at most floor(epochs * this). */
  warmupAtMost?: number;
}

let cache: Record<string, RecipeEntry> | undefined;

/** Every recipe of the file (read once). */
export function recipeEntries(): Record<RecipeName, RecipeEntry> {
  cache ??= (JSON.parse(readFileSync(RECIPE_FILE, 'utf8')) as { recipes: Record<string, RecipeEntry> }).recipes;
  const names = Object.keys(cache).sort();
  if (names.join() !== [...RECIPE_NAMES].sort().join()) throw new Error(`${RECIPE_FILE} names ${names.join(', ')}, RECIPE_NAMES ${RECIPE_NAMES.join(', ')}`);
  return cache as Record<RecipeName, RecipeEntry>;
}

/** The settings of recipe `name` for a run of `epochs` epochs; a UserError for an unknown name. */
export function resolveRecipe(name: string, epochs: number): RecipeSettings {
  if (!(RECIPE_NAMES as readonly string[]).includes(name)) throw new UserError(`unknown recipe '${name}'; use ${RECIPE_NAMES.join(' or ')}`);
  const r = recipeEntries()[name as RecipeName];
  const s = { ...r.settings };
  if (r.warmupAtMost !== undefined) s.warmup = Math.min(s.warmup ?? 0, Math.floor(epochs * r.warmupAtMost));
  return s;
}
