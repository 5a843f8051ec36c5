import { UserError } from '../errors.js';
import { loadCifar10Bin } from './cifar10.js';
import type { TrainTestSplit } from './dataset.js';
import { loadMnist, type MnistOptions } from './mnist.js';

export { batchArrays, permutation, subset, type ImageSet, type TrainTestSplit } from './dataset.js';
export { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, loadCifar10Bin } from './cifar10.js';
export { loadMnist, type MnistOptions } from './mnist.js';

/** Parses `--data`: `mnist` (the default) or `cifar10-bin:DIR`. */
export function loadData(spec: string, mnist: MnistOptions = {}): TrainTestSplit {
  if (spec === 'mnist') return loadMnist(mnist);
  if (spec.startsWith('cifar10-bin:')) {
    const dir = spec.slice('cifar10-bin:'.length);
    if (dir === '') throw new UserError('--data cifar10-bin:DIR needs the folder of the binary CIFAR-10 files');
    return loadCifar10Bin(dir);
  }
  throw new UserError(`unknown data set '${spec}'; use 'mnist' or 'cifar10-bin:DIR'`);
}
