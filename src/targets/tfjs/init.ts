import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';

export type { Initializer };

/**
 * torchvision's initialisation as TF.js initializers (all plain, seedable RandomNormal /
 * RandomUniform, so they serialise without custom classes):
 * - conv weight: kaiming_normal_(mode='fan_out', nonlinearity='relu'): N(0, sqrt(2 / fan_out)),
 *   fan_out = out_channels * kh * kw (PyTorch counts all output channels, groups or not);
 * - conv bias and linear weight/bias: PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 *   fan_in = in_channels / groups * kh * kw (kaiming_uniform_ with a = sqrt(5) gives that bound);
 * - batch-norm: gamma 1 (0 for the zero-init residual option), beta 0, running stats 0 and 1.
 * Note tf.initializers.heNormal would be wrong twice: fan_in, and a truncated normal.
 */
export function convKernelInit(kernel: [number, number], outChannels: number, seed?: number): Initializer {
  const fanOut = outChannels * kernel[0] * kernel[1];
  return tf.initializers.randomNormal({ mean: 0, stddev: Math.sqrt(2 / fanOut), seed });
}

export function fanInUniform(fanIn: number, seed?: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}

/** A per-weight seed from the model seed, so that each layer draws different values reproducibly. */
export function deriveSeed(seed: number | undefined, index: number, slot: number): number | undefined {
  if (seed === undefined) return undefined;
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(slot + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** {className, config} as model.json stores an initializer. */
export function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

const FACTORIES: Record<string, (config: never) => Initializer> = {
  RandomNormal: tf.initializers.randomNormal,
  RandomUniform: tf.initializers.randomUniform,
  Zeros: tf.initializers.zeros,
  Ones: tf.initializers.ones,
};

export function isInitializer(x: unknown): x is Initializer {
  return typeof (x as Initializer | undefined)?.apply === 'function' && typeof (x as Initializer).getClassName === 'function';
}

export function deserializeInitializer(spec: unknown): Initializer {
  const { className, config } = (spec ?? {}) as { className?: string; config?: unknown };
  const factory = className === undefined ? undefined : FACTORIES[className];
  if (factory === undefined) throw new Error(`skipgraph: unsupported initializer ${JSON.stringify(className)}`);
  return factory((config ?? {}) as never);
}
