// Progress lives below the targets (src/training): the PyTorch engine draws the same bar and lines.
export { progressBar, progressLines, silentProgress, type BatchStats, type TrainProgress } from '../../../training/index.js';
