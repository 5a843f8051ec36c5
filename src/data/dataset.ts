import { mulberry32 } from '../random/index.js';

/** Labelled images held in memory, NHWC, and how to normalise them. */
export interface ImageSet {
  /** "mnist", "cifar10". */
  name: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
  count: number;
  /** count * height * width * channels values, NHWC; bytes 0..255 or floats 0..1. */
  pixels: Uint8Array | Float32Array;
  /** What one stored unit is worth in [0, 1] (1/255 for bytes, 1 for floats). */
  scale: number;
  /** Class indices (Uint16Array for more than 256 classes). */
  labels: Uint8Array | Uint16Array;
  /** Per-channel mean and std of the [0, 1] values, subtracted and divided at batch time. */
  mean: number[];
  std: number[];
}

export interface TrainTestSplit {
  train: ImageSet;
  test: ImageSet;
}

/** A subset of `set` by sample index, in the given order. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const per = set.height * set.width * set.channels;
  const pixels = new (set.pixels.constructor as Uint8ArrayConstructor | Float32ArrayConstructor)(indices.length * per);
  const labels = new (set.labels.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    pixels.set(set.pixels.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = set.labels[i];
  }
  return { ...set, count: indices.length, pixels, labels };
}

/** Normalised float32 NHWC values and one-hot labels for the samples `order[start .. end)`. */
export function batchArrays(set: ImageSet, order: ArrayLike<number>, start: number, end: number): { x: Float32Array; y: Float32Array } {
  const per = set.height * set.width * set.channels;
  const n = end - start;
  const x = new Float32Array(n * per);
  const y = new Float32Array(n * set.classes);
  const c = set.channels;
  const shift = set.mean.map((m, k) => m / set.std[k]);
  const mult = set.std.map((s) => set.scale / s);
  for (let k = 0; k < n; k++) {
    const i = order[start + k];
    const src = i * per;
    const dst = k * per;
    for (let p = 0; p < per; p++) x[dst + p] = set.pixels[src + p] * mult[p % c] - shift[p % c];
    y[k * set.classes + set.labels[i]] = 1;
  }
  return { x, y };
}

/** A seeded permutation of 0 .. n-1 (mulberry32 + Fisher-Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const next = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order;
}
