import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import type { Draw } from '../../compiler/analyses/init.js';

export type { Initializer };

/**
 * One draw of the compiler's initialisation plan (src/compiler/analyses/init.ts: torchvision's
 * distributions and fans) as a TF.js initializer: plain, seedable RandomNormal / RandomUniform /
 * Constant, so they serialise without custom classes. `seed` is a per-weight seed (src/random's
 * deriveSeed), or undefined for TF.js's own unseeded draw.
 */
export function initializerOf(draw: Draw, seed?: number): Initializer {
  switch (draw.kind) {
    case 'normal':
      return tf.initializers.randomNormal({ mean: 0, stddev: draw.std, seed });
    case 'uniform':
      return tf.initializers.randomUniform({ minval: -draw.bound, maxval: draw.bound, seed });
    case 'constant':
      return tf.initializers.constant({ value: draw.value });
  }
}

/** {className, config} as model.json stores an initializer. */
export function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

const FACTORIES: Record<string, (config: never) => Initializer> = {
  RandomNormal: tf.initializers.randomNormal,
  RandomUniform: tf.initializers.randomUniform,
  Zeros: tf.initializers.zeros,
  Constant: tf.initializers.constant,
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
