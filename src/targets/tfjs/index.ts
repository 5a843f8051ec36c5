/**
 * skipgraph's runtime: compiled graphs as TensorFlow.js models, backends, kernels, files, data
 * and training. Importing it registers skipgraph's custom layers (for model loading) and the
 * `file://` routers.
 */
import { registerFileRouters } from './io/file_io.js';

/** The TF.js instance skipgraph's layers and kernels are registered with (an optional peer of skipgraph). */
export * as tf from '@tensorflow/tfjs';

export { buildModel, type BuildOptions } from './build.js';
export { verifyModel } from './verify.js';
export {
  BACKEND_CHOICES,
  currentBackend,
  describeBackend,
  selectBackend,
  startBackend,
  type BackendAttempt,
  type BackendChoice,
  type BackendReport,
  type SelectOptions,
} from './backend.js';
export { FAST_KERNEL_PLAN, installFastKernels, installedFastKernels, uninstallFastKernels } from './kernels/install.js';
export { ChannelPad, GlobalAveragePooling2DKeepDims, GroupedConv2D, NegInfPadding2D, Subsample } from './layers/index.js';
export { FileHandler, MODEL_JSON, registerFileRouters, WEIGHTS_BIN } from './io/file_io.js';
export { loadModel, saveModel } from './io/model_files.js';
export {
  AUGMENT_WORDS,
  augmentSample,
  augments,
  batchArrays,
  CIFAR10_MEAN,
  CIFAR10_STD,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  cropResize,
  DATA_SPECS,
  hflip,
  IMAGENET_MEAN,
  IMAGENET_STD,
  listImageFolder,
  loadCifar10Bin,
  loadData,
  loadImageFolder,
  loadImageFolderSplit,
  loadMnist,
  mixBatch,
  mixSeed,
  MNIST_MEAN,
  MNIST_STD,
  mulberry32,
  padCrop,
  parseAugment,
  permutation,
  random,
  resize,
  resizedCropBox,
  subset,
  withNormalization,
  type AugmentOptions,
  type Image,
  type ImageFolderOptions,
  type ImageSet,
  type MnistOptions,
  type Random,
  type TrainTestSplit,
} from '../../data/index.js';
export { DataLoader, type Batch, type LoaderOptions } from './data/loader.js';
export { batches } from './train/batches.js';
export { latestCheckpoint, readCheckpoint, writeCheckpoint, type EpochRecord, type TrainState } from './train/checkpoint.js';
export {
  checkOptimizer,
  logitsCrossEntropy,
  makeOptimizer,
  OPTIMIZERS,
  RecipeOptimizer,
  smoothedCrossEntropy,
  type OptimizerName,
  type OptimizerOptions,
} from './train/optimizer.js';
export { checkScheduleOptions, learningRateAt, lrAt, SCHEDULES, setLearningRate, type Schedule, type ScheduleOptions } from './train/schedule.js';
export { WeightEma } from './train/ema.js';
export { evaluate, formatConfusion, type Evaluation } from './train/evaluate.js';
export { confusionSvg, curvesSvg, historyCsv, type CurvePoint } from './train/report.js';
export { RECIPE_NAMES, RECIPES, resolveRecipe, type RecipeName } from './train/recipes.js';
export { progressBar, silentProgress, type BatchStats, type TrainProgress } from './train/progress.js';
export { describeSettings, resolveSettings, train, type TrainEpochRecord, type TrainOptions, type TrainResult, type TrainSettings } from './train/train.js';
export { InternalError, UserError } from '../../errors/index.js';

registerFileRouters();
export * from './weights/index.js';
export { foldForInference, planFolding, type FoldedConv, type FoldPlan, type FoldResult } from './fold.js';
