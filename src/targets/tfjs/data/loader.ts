import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../errors/index.js';
import { augmentSample, augments, mixBatch, type AugmentOptions } from '../../../data/augment.js';
import { batchArrays, permutation, type ImageSet } from '../../../data/dataset.js';
import { mixSeed, random } from '../../../random/index.js';

export interface LoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** A new seeded order each epoch (PyTorch's shuffle=True); default false: the set's order. */
  shuffle?: boolean;
  /** Seeds the shuffles and the augmentation (default 0). */
  seed?: number;
  /** Drop the last batch when it is partial (PyTorch's drop_last); default false: keep it, smaller. */
  dropLast?: boolean;
  /** Augmentation: give it for the training split only. */
  augment?: AugmentOptions;
  /** Batches prepared ahead by `dataset()` (tf.data's prefetch); default 1. */
  prefetch?: number;
}

/** One batch: normalised NHWC values and (possibly mixed) one-hot labels, as plain arrays. */
export interface Batch {
  x: Float32Array;
  y: Float32Array;
  /** The true label of each sample (before any mixing). */
  labels: Uint16Array;
  shape: [number, number, number, number];
}

/**
 * PyTorch's DataLoader over an in-memory ImageSet: the order of epoch e is a seeded permutation
 * (seed * 100003 + e) when shuffling, batches of batchSize with the last partial one kept or
 * dropped, augmentation drawn from a stream seeded by (seed, epoch), so an epoch's batches are a
 * function of the seed and the epoch alone (a resumed run sees the same batches).
 */
export class DataLoader {
  readonly set: ImageSet;
  readonly options: Required<Omit<LoaderOptions, 'augment'>> & { augment?: AugmentOptions };

  constructor(set: ImageSet, options: LoaderOptions) {
    if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) throw new UserError(`batch size must be a positive whole number, not ${options.batchSize}`);
    this.set = set;
    this.options = { shuffle: false, seed: 0, dropLast: false, prefetch: 1, ...options };
  }

  /** Batches in one epoch. */
  get length(): number {
    const { batchSize, dropLast } = this.options;
    return dropLast ? Math.floor(this.set.count / batchSize) : Math.ceil(this.set.count / batchSize);
  }

  /** The sample order of an epoch. */
  order(epoch: number): Uint32Array {
    if (this.options.shuffle) return permutation(this.set.count, this.options.seed * 100_003 + epoch);
    return Uint32Array.from({ length: this.set.count }, (_, i) => i);
  }

  /** The batches of epoch `epoch` (0-based), in order. */
  *epoch(epoch = 0): Generator<Batch> {
    const set = this.set;
    const { batchSize } = this.options;
    const order = this.order(epoch);
    const augment = augments(this.options.augment) ? this.options.augment : undefined;
    const rng = random(mixSeed(this.options.seed, epoch, 0x617567));
    const per = set.height * set.width * set.channels;
    for (let b = 0; b < this.length; b++) {
      const start = b * batchSize;
      const end = Math.min(order.length, start + batchSize);
      const n = end - start;
      const labels = new Uint16Array(n);
      for (let k = 0; k < n; k++) labels[k] = set.labels[order[start + k]];
      const shape: Batch['shape'] = [n, set.height, set.width, set.channels];
      if (augment === undefined) {
        yield { ...batchArrays(set, order, start, end), labels, shape };
        continue;
      }
      const x = new Float32Array(n * per);
      const y = new Float32Array(n * set.classes);
      const c = set.channels;
      const shift = set.mean.map((m, k) => m / set.std[k]);
      const mult = set.std.map((s) => set.scale / s);
      for (let k = 0; k < n; k++) {
        const i = order[start + k];
        const raw = Float32Array.from(set.pixels.subarray(i * per, (i + 1) * per));
        const img = augmentSample(rng, { data: raw, height: set.height, width: set.width, channels: c }, augment);
        for (let p = 0; p < per; p++) x[k * per + p] = img.data[p] * mult[p % c] - shift[p % c];
        y[k * set.classes + set.labels[i]] = 1;
      }
      mixBatch(rng, x, y, n, set.height, set.width, c, set.classes, augment);
      yield { x, y, labels, shape };
    }
  }

  /**
   * Epoch batches as a tf.data dataset of {xs, ys} tensors for model.fitDataset, with the next
   * batches prepared while the current step runs (tf.data's prefetch). `epochOf()` is read each
   * time the dataset is iterated (fitDataset iterates once per epoch).
   */
  dataset(epochOf: () => number): tf.data.Dataset<{ xs: tf.Tensor4D; ys: tf.Tensor2D }> {
    const self = this;
    const gen = function* () {
      for (const b of self.epoch(epochOf())) {
        yield { xs: tf.tensor4d(b.x, b.shape), ys: tf.tensor2d(b.y, [b.shape[0], self.set.classes]) };
      }
    };
    return tf.data.generator(gen).prefetch(this.options.prefetch);
  }
}
