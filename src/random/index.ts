/**
 * skipgraph's one seeded random module: every seeded draw in the project (shuffles, augmentation,
 * sweep samples, fresh ONNX weights, infer's random input, the fuzzers) comes from here, so a run
 * is a function of its seed. Hand-written: each generator is ten lines, and JavaScript has no
 * seeded generator of its own; none of them needs to be cryptographic.
 *
 * Three uniform streams, kept apart because shipped outputs depend on their exact numbers:
 * - mulberry32: shuffles, augmentation, sweep samples, the fuzzers (`random` builds on it);
 * - splitmix32: `export --target onnx --seed N`'s weights (their bytes are tested);
 * - lcg32: `infer --input random` (a reproducible input across runs and runtimes).
 * And two seed mixers: mixSeed (streams per epoch) and deriveSeed (TF.js's per-weight seeds).
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform whole number in [lo, hi) (torch.randint's bounds). */
  int(lo: number, hi: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Beta(a, a), for mixup's and cutmix's mixing weights (numpy.random.beta as timm calls it). */
  beta(a: number, b: number): number;
}

export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** splitmix32: a 32-bit state, uniform floats in [0, 1). */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** A linear congruential generator (Numerical Recipes' constants): uniform floats in [0, 1). */
export function lcg32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Standard normal draws from a uniform stream (Box-Muller, one value per two uniforms; 1 - u keeps the log finite). */
export function normalFrom(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/**
 * A per-weight seed from a model seed, a layer's position and a slot (0 kernel, 1 bias), so each
 * weight of a TF.js model draws different values reproducibly; undefined stays undefined (TF.js's
 * own unseeded draw). A murmur-style finaliser; its numbers are the TF.js target's seeded weights.
 */
export function deriveSeed(seed: number | undefined, index: number, slot: number): number | undefined {
  if (seed === undefined) return undefined;
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(slot + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A seed mixed from several whole numbers (seed, epoch, stream), so streams do not overlap. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}

export function random(seed: number): Random {
  const next = mulberry32(seed);
  const normal = normalFrom(next);
  // Marsaglia and Tsang's gamma sampler (shape k; k < 1 by the boost k+1 and u^(1/k)).
  const gamma = (k: number): number => {
    if (k < 1) return gamma(k + 1) * Math.pow(1 - next(), 1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo)),
    uniform: (lo, hi) => lo + next() * (hi - lo),
    beta: (a, b) => {
      const x = gamma(a);
      const y = gamma(b);
      return x / (x + y);
    },
  };
}
