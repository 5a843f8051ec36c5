/**
 * skipgraph's runtime: compiled graphs as TensorFlow.js models, backends, kernels, files, data
 * and training. Importing it registers skipgraph's custom layers (for model loading) and the
 * `file://` routers.
 */
import { registerFileRouters } from './io/file_io.js';

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
  batchArrays,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  loadCifar10Bin,
  loadData,
  loadMnist,
  permutation,
  subset,
  type ImageSet,
  type MnistOptions,
  type TrainTestSplit,
} from './data/index.js';
export { batches } from './train/batches.js';
export { latestCheckpoint, readCheckpoint, writeCheckpoint, type EpochRecord, type TrainState } from './train/checkpoint.js';
export { checkOptimizer, logitsCrossEntropy, makeOptimizer, OPTIMIZERS, type OptimizerName } from './train/optimizer.js';
export { learningRateAt, SCHEDULES, setLearningRate, type Schedule } from './train/schedule.js';
export { progressBar, silentProgress, type BatchStats, type TrainProgress } from './train/progress.js';
export { train, type TrainOptions, type TrainResult } from './train/train.js';
export { InternalError, UserError } from './errors.js';

registerFileRouters();
export * from './weights/index.js';
export { foldForInference, planFolding, type FoldedConv, type FoldPlan, type FoldResult } from './fold.js';
