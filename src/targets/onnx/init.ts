/**
 * torchvision's fresh initialisation in PyTorch's layout, from a seed (what `export --seed` writes
 * when no trained weights are given). Which tensor gets which distribution is the compiler's plan
 * (src/compiler/analyses/init.ts, shared with the TF.js target); this file only draws it, from
 * src/random's splitmix32 (uniform) and Box-Muller (normal), in the plan's order, so a seed gives
 * the same bytes on every run and platform. TF.js draws the same distributions with its own
 * generator: the numbers differ.
 */
import { initPlan, type Draw } from '../../compiler/analyses/init.js';
import type { CompiledGraph } from '../../compiler/types.js';
import { normalFrom, splitmix32 } from '../../random/index.js';

function fill(n: number, draw: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = draw();
  return a;
}

/** Every parameter of the graph, torchvision-initialised from `seed`, keyed by state_dict name. */
export function torchvisionInit(graph: CompiledGraph, seed = 0): Map<string, { data: Float32Array; shape: number[] }> {
  const u = splitmix32(seed);
  const normal = normalFrom(u);
  const values = (d: Draw, n: number): Float32Array => {
    switch (d.kind) {
      case 'normal':
        return fill(n, () => normal() * d.std);
      case 'uniform':
        return fill(n, () => (2 * u() - 1) * d.bound);
      case 'constant':
        return new Float32Array(n).fill(d.value);
    }
  };
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const e of initPlan(graph)) out.set(e.key, { data: values(e.draw, e.shape.reduce((a, b) => a * b, 1)), shape: e.shape });
  return out;
}
