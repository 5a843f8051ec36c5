import { UserError } from '../errors/index.js';
import { loadCifar10Bin } from './cifar10.js';
import type { TrainTestSplit } from './dataset.js';
import { loadImageFolderSplit, type ImageFolderOptions } from './imagefolder.js';
import { loadMnist, type MnistOptions } from './mnist.js';

export { batchArrays, permutation, subset, type ImageSet, type TrainTestSplit } from './dataset.js';
export { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, loadCifar10Bin } from './cifar10.js';
export { loadMnist, type MnistOptions } from './mnist.js';
export { AUGMENT_WORDS, augmentSample, augments, mixBatch, parseAugment, type AugmentOptions } from './augment.js';
export {
  CIFAR10_MEAN,
  CIFAR10_STD,
  IMAGENET_MEAN,
  IMAGENET_STD,
  listImageFolder,
  loadImageFolder,
  loadImageFolderSplit,
  MNIST_MEAN,
  MNIST_STD,
  withNormalization,
  type ImageFolderOptions,
} from './imagefolder.js';
export { mixSeed, mulberry32, random, type Random } from '../random/index.js';
export { cropResize, hflip, padCrop, resize, resizedCropBox, type Image } from './transforms.js';

export const DATA_SPECS = ['mnist', 'cifar10-bin:DIR', 'imagefolder:DIR'];

/**
 * Parses `--data`: `mnist` (the default), `cifar10-bin:DIR`, or `imagefolder:DIR` (DIR/train and
 * DIR/val in torchvision's ImageFolder layout, resized to `image`'s size: the architecture's input).
 */
export function loadData(spec: string, mnist: MnistOptions = {}, image?: Pick<ImageFolderOptions, 'height' | 'width' | 'channels'>): TrainTestSplit {
  if (spec === 'mnist') return loadMnist(mnist);
  const folder = (prefix: string, what: string) => {
    const dir = spec.slice(prefix.length);
    if (dir === '') throw new UserError(`--data ${prefix}DIR needs the folder of ${what}`);
    return dir;
  };
  if (spec.startsWith('cifar10-bin:')) return loadCifar10Bin(folder('cifar10-bin:', 'the binary CIFAR-10 files'));
  if (spec.startsWith('imagefolder:')) {
    const dir = folder('imagefolder:', 'train/ and val/ class folders');
    if (image === undefined) throw new UserError('--data imagefolder:DIR needs the image size to resize to (the architecture input)');
    return loadImageFolderSplit(dir, image);
  }
  throw new UserError(`unknown data set '${spec}'; use ${DATA_SPECS.map((s) => `'${s}'`).join(', ')}`);
}
