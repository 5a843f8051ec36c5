/**
 * torchvision's fresh initialisation, in PyTorch's layout, from a seed (what `export --seed`
 * writes when no trained weights are given):
 * - conv weight: kaiming_normal_(mode='fan_out', nonlinearity='relu'): N(0, sqrt(2 / fan_out)),
 *   fan_out = out_channels * kh * kw; conv bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in));
 * - batch norm: weight 1, bias 0, running_mean 0, running_var 1;
 * - linear weight and bias: PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * The same distributions as src/targets/tfjs/init.ts draws with TF.js; the numbers differ (another
 * generator). The generator is a few lines written here (splitmix32 + Box-Muller): no seedable
 * generator is among the project's run-time dependencies, and the values only need to be
 * reproducible and well spread, not cryptographic.
 */
import type { CompiledGraph } from '../../compiler/types.js';
import { paramSpecs } from './params.js';

/** splitmix32: a 32-bit state, uniform floats in [0, 1). */
export function uniformSource(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

function fill(n: number, draw: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = draw();
  return a;
}

/** Every parameter of the graph, torchvision-initialised from `seed`, keyed by state_dict name. */
export function torchvisionInit(graph: CompiledGraph, seed = 0): Map<string, { data: Float32Array; shape: number[] }> {
  const u = uniformSource(seed);
  const normal = () => {
    const a = 1 - u(); // (0, 1]
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  const specs = paramSpecs(graph);
  const fanIn = new Map<string, number>();
  for (const s of specs) if (s.role === 'weight' && s.shape.length > 1) fanIn.set(s.node, s.shape.slice(1).reduce((a, b) => a * b, 1));
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const op = byId.get(s.node)!.op;
    let data: Float32Array;
    if (op === 'bn') data = s.role === 'weight' || s.role === 'running_var' ? new Float32Array(n).fill(1) : new Float32Array(n);
    else if (op === 'conv' && s.role === 'weight') {
      const std = Math.sqrt(2 / (s.shape[0] * s.shape[2] * s.shape[3]));
      data = fill(n, () => normal() * std);
    } else {
      const bound = 1 / Math.sqrt(fanIn.get(s.node)!);
      data = fill(n, () => (2 * u() - 1) * bound);
    }
    out.set(s.key, { data, shape: s.shape });
  }
  return out;
}
