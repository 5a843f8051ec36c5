/**
 * `infer` on a backbone (a model whose outputs are feature maps, `features:` in its file): each
 * output's shape and summary statistics instead of top-k classes, which a map has none of.
 */
import type { Io } from '../io.js';

/** One output of a run: its name, values and dims (NCHW for a map). */
export interface NamedOutput {
  name: string;
  data: Float32Array;
  dims: readonly number[];
}

/** A backbone's outputs: several, or one with more than [batch, classes] dims. */
export function areFeatureMaps(dims: readonly (readonly number[])[]): boolean {
  return dims.length > 1 || (dims.length === 1 && dims[0].length > 2);
}

/** Mean, standard deviation, min and max over the finite values, and how many are not finite. */
export function summarise(data: Float32Array): { mean: number; std: number; min: number; max: number; nonFinite: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = n ? sum / n : NaN;
  return { mean, std: n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : NaN, min: n ? min : NaN, max: n ? max : NaN, nonFinite: data.length - n };
}

/** `output "layer1" [1, 256, 56, 56]: mean 0.1234, std 0.5678, min -1.2345, max 3.4567`, one line an output. */
export function printMaps(io: Io, outputs: readonly NamedOutput[], out: string | undefined): void {
  for (const o of outputs) {
    const s = summarise(o.data);
    const bad = s.nonFinite ? `, ${s.nonFinite} not finite` : '';
    io.out(`output "${o.name}" [${o.dims.join(', ')}]: mean ${s.mean.toFixed(4)}, std ${s.std.toFixed(4)}, min ${s.min.toFixed(4)}, max ${s.max.toFixed(4)}${bad}`);
  }
  if (out === undefined) io.out(`  every value: --out FILE.safetensors (one tensor per output, by name)`);
}
