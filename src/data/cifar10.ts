import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors/index.js';
import type { ImageSet, TrainTestSplit } from './dataset.js';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';

/**
 * CIFAR-10 in its binary version (cifar-10-batches-bin/): records of one label byte and 3072
 * pixel bytes, red plane, green plane, blue plane, each row-major 32x32. Returned NHWC.
 * Training files that are missing are skipped (at least one is needed); test_batch.bin is required.
 */
export function loadCifar10Bin(dir: string): TrainTestSplit {
  if (!existsSync(dir)) throw new UserError(`CIFAR-10 folder not found: ${dir}`);
  const trainFiles = CIFAR10_TRAIN_FILES.map((f) => join(dir, f)).filter((f) => existsSync(f));
  if (trainFiles.length === 0) {
    throw new UserError(`no CIFAR-10 training file (${CIFAR10_TRAIN_FILES.join(', ')}) in ${dir}; expected the binary version (cifar-10-batches-bin)`);
  }
  const testFile = join(dir, CIFAR10_TEST_FILE);
  if (!existsSync(testFile)) throw new UserError(`${CIFAR10_TEST_FILE} not found in ${dir}`);
  return { train: readRecords('cifar10', trainFiles), test: readRecords('cifar10', [testFile]) };
}

export function readRecords(name: string, files: string[]): ImageSet {
  const buffers = files.map((f) => {
    const b = readFileSync(f);
    if (b.length === 0 || b.length % RECORD !== 0) {
      throw new UserError(`${f}: ${b.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records`);
    }
    return b;
  });
  const count = buffers.reduce((n, b) => n + b.length / RECORD, 0);
  const pixels = new Uint8Array(count * 3 * PLANE);
  const labels = new Uint8Array(count);
  let k = 0;
  for (const [fileIndex, b] of buffers.entries()) {
    for (let r = 0; r < b.length; r += RECORD, k++) {
      const label = b[r];
      if (label > 9) throw new UserError(`${files[fileIndex]}: record ${r / RECORD} has label ${label}, not 0..9`);
      labels[k] = label;
      const out = k * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        pixels[out + p * 3] = b[r + 1 + p];
        pixels[out + p * 3 + 1] = b[r + 1 + PLANE + p];
        pixels[out + p * 3 + 2] = b[r + 1 + 2 * PLANE + p];
      }
    }
  }
  return {
    name,
    height: SIDE,
    width: SIDE,
    channels: 3,
    classes: 10,
    count,
    pixels,
    scale: 1 / 255,
    labels,
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.247, 0.2435, 0.2616],
  };
}
