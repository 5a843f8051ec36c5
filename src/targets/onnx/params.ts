/**
 * The parameters the ONNX model of a compiled graph needs, by their PyTorch state_dict name and
 * in PyTorch's layout (conv weight [O, I/groups, kh, kw], dense weight [out, in] with `in`
 * flattened as C, H, W). ONNX is NCHW like PyTorch, so these are also the initializers' layouts:
 * a weight map in this form goes into the file as it is. The layout itself is the compiler's
 * (src/compiler/analyses/state_dict.ts), shared with every target.
 */
import { counterKeys, weightTensors } from '../../compiler/analyses/state_dict.js';
import type { StateRole } from '../../compiler/ops.js';
import type { CompiledGraph } from '../../compiler/types.js';

export interface ParamSpec {
  /** The state_dict key (= the initializer's name): `layer1.0.conv1.weight`. */
  key: string;
  /** The node it belongs to. */
  node: string;
  role: StateRole;
  shape: number[];
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export function paramSpecs(graph: CompiledGraph): ParamSpec[] {
  return weightTensors(graph).map((t) => ({ key: t.key, node: t.node.id, role: t.role, shape: t.shape }));
}

/** A map of weights that does not fit the graph: every offender is listed. */
export class WeightsMismatchError extends Error {
  constructor(
    readonly source: string,
    readonly architecture: string,
    readonly missing: string[],
    readonly mismatched: string[],
    readonly unexpected: string[],
  ) {
    const lines = [`${source} does not fit ${architecture}:`];
    const section = (title: string, items: string[]) => {
      if (items.length === 0) return;
      lines.push(`  ${items.length} ${title}:`);
      for (const i of items.slice(0, 20)) lines.push(`    ${i}`);
      if (items.length > 20) lines.push(`    ... (${items.length - 20} more)`);
    };
    section(missing.length === 1 ? 'tensor missing' : 'tensors missing', missing);
    section(mismatched.length === 1 ? 'tensor of the wrong shape' : 'tensors of the wrong shape', mismatched);
    section(unexpected.length === 1 ? 'unexpected tensor' : 'unexpected tensors', unexpected);
    super(lines.join('\n'));
  }
}

/** What the exporter takes: a Float32Array per key, with the tensor's shape when the source knows it. */
export type WeightMap = ReadonlyMap<string, Float32Array | { data: Float32Array; shape: readonly number[] }>;

/**
 * Checks `weights` against the graph and returns each key's data. Keys ending in
 * `.num_batches_tracked` of the graph's batch norms are ignored; any other key the graph has
 * no place for is reported.
 */
export function checkWeights(graph: CompiledGraph, weights: WeightMap, source = 'the weights'): Map<string, Float32Array> {
  const specs = paramSpecs(graph);
  const missing: string[] = [];
  const mismatched: string[] = [];
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const w = weights.get(s.key);
    if (w === undefined) {
      missing.push(`${s.key} [${s.shape.join(', ')}]`);
      continue;
    }
    const data = w instanceof Float32Array ? w : w.data;
    const shape = w instanceof Float32Array ? undefined : w.shape;
    const shapeOk = shape === undefined ? data.length === size(s.shape) : shape.length === s.shape.length && shape.every((d, i) => d === s.shape[i]);
    if (!shapeOk || data.length !== size(s.shape)) {
      mismatched.push(`${s.key}: ${shape ? `[${shape.join(', ')}]` : `${data.length} values`}, the model needs [${s.shape.join(', ')}]`);
      continue;
    }
    out.set(s.key, data);
  }
  const known = new Set(specs.map((s) => s.key));
  // Step counters (BN num_batches_tracked) are in a PyTorch state_dict but hold no weight.
  const counters = counterKeys(graph);
  const unexpected = [...weights.keys()].filter((k) => !known.has(k) && !counters.has(k));
  if (missing.length + mismatched.length + unexpected.length > 0) throw new WeightsMismatchError(source, graph.name, missing, mismatched, unexpected);
  return out;
}
