/**
 * The recipe flags of `skipgraph train`, shared by both engines: their types, and the arguments
 * that hand them to the PyTorch trainer (python/skipgraph_train.py takes the same names).
 */

/** Every recipe flag, by its camelCase name (`--lr-step-size` is lrStepSize). */
export interface RecipeFlags {
  recipe?: string;
  batch?: number;
  lr?: number;
  optimizer?: string;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  decayAll?: boolean;
  clipGrad?: number;
  schedule?: string;
  warmup?: number;
  schedulePer?: 'step' | 'epoch';
  lrStepSize?: number;
  lrGamma?: number;
  milestones?: number[];
  labelSmoothing?: number;
  augment?: string;
  ema?: number;
  dropLast?: boolean;
}

/** The flags in the order `skipgraph train --help` lists them. */
export const RECIPE_FLAG_NAMES = [
  'recipe', 'batch', 'lr', 'optimizer', 'momentum', 'nesterov', 'weightDecay', 'decayAll', 'clipGrad', 'schedule',
  'warmup', 'schedulePer', 'lrStepSize', 'lrGamma', 'milestones', 'labelSmoothing', 'augment', 'ema', 'dropLast',
] as const satisfies readonly (keyof RecipeFlags)[];

/** `lrStepSize` -> `--lr-step-size`. */
export const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The flags given (not undefined) as command-line arguments: booleans bare, lists joined by commas. */
export function recipeArgs(flags: RecipeFlags): string[] {
  const out: string[] = [];
  for (const k of RECIPE_FLAG_NAMES) {
    const v = flags[k];
    if (v === undefined || v === false) continue;
    if (v === true) out.push(flagName(k));
    else out.push(flagName(k), Array.isArray(v) ? v.join(',') : String(v));
  }
  return out;
}

/** The engines `skipgraph train` runs on. */
export type Engine = 'tfjs' | 'torch';

/**
 * Where a run goes without --out: runs/<name> for TF.js, runs/<name>-torch for PyTorch. The two
 * engines' folders hold different files (model.json vs model.pt), so each engine has its own
 * default and neither meets the other's run there (src/io/run_folder.ts refuses that anyway).
 */
export function defaultRunFolder(file: string, engine: Engine): string {
  const name = file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '');
  return engine === 'torch' ? `runs/${name}-torch` : `runs/${name}`;
}
