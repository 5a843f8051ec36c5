/** The training protocol below the targets: records, lines, progress, schedules, recipes, flags. */
export { silentProgress, type BatchStats, type EpochRecord, type TrainProgress } from './record.js';
export { epochLine, formatDuration, progressLine } from './format.js';
export { DEFAULT_PROGRESS_EVERY, parseProgressEvery, progressBar, progressLines, type ProgressEvery } from './progress.js';
export { checkSchedule, checkScheduleOptions, learningRateAt, lrAt, SCHEDULES, type Schedule, type ScheduleOptions } from './schedule.js';
export { RECIPE_FILE, RECIPE_NAMES, recipeEntries, resolveRecipe, type RecipeName, type RecipeSettings } from './recipes.js';
export { flagName, RECIPE_FLAG_NAMES, recipeArgs, type RecipeFlags } from './flags.js';
