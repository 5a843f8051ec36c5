/**
 * Reading a saved model (model.json + weights) for a compiled architecture without building what
 * model.json declares: the file's layer names and weight list are compared with the architecture
 * first, and the model is then built from the architecture (whose size the compiler's limits
 * already bound) and given the file's weights. A model.json that declares a 524M-parameter conv
 * is refused before anything is allocated.
 */
import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../../../compiler/types.js';
import { buildModel } from '../build.js';
import { UserError } from '../../../errors/index.js';
import { modelJsonPathFor, readModelJson, readWeightData, type ManifestGroup } from '../io/file_io.js';
import { quote } from '../../../io/safe_read.js';
import { ValueCheck } from '../../../formats/finite.js';
import { stateDictSlots } from './state_dict.js';

export interface SavedModelInfo {
  jsonPath: string;
  /** The layer names model.json's topology lists (empty when it lists none that can be read). */
  layerNames: Set<string>;
  groups: ManifestGroup[];
}

const MAX_LISTED = 20;

/** Reads and checks model.json (size-capped, paths inside the folder); no weight byte is read. */
export function inspectSavedModel(pathOrDir: string): SavedModelInfo {
  const jsonPath = modelJsonPathFor(pathOrDir);
  const { modelJson, groups } = readModelJson(jsonPath);
  return { jsonPath, layerNames: topologyLayerNames(modelJson.modelTopology), groups };
}

function topologyLayerNames(topology: unknown): Set<string> {
  const names = new Set<string>();
  const t = topology as { model_config?: { config?: { layers?: unknown } }; config?: { layers?: unknown } } | null;
  const layers = t?.model_config?.config?.layers ?? t?.config?.layers;
  if (!Array.isArray(layers)) return names;
  for (const l of layers) {
    const name = (l as { name?: unknown; config?: { name?: unknown } } | null)?.name ?? (l as { config?: { name?: unknown } } | null)?.config?.name;
    if (typeof name === 'string') names.add(name);
  }
  return names;
}

export interface ExpectedWeight {
  name: string;
  shape: number[];
  /** A running variance (must not be negative). */
  variance: boolean;
}

/** The weights a model built from `graph` has, by TF.js name ("layer/variable"). */
export function expectedWeights(graph: CompiledGraph): ExpectedWeight[] {
  return stateDictSlots(graph).map((s) => ({ name: `${s.node}/${s.variable}`, shape: s.tfShape, variance: s.variable === 'moving_variance' }));
}

const list = (items: string[]) => items.slice(0, MAX_LISTED).join(', ') + (items.length > MAX_LISTED ? `, ... (${items.length} in all)` : '');

/** Refuses a manifest whose weights are not exactly the architecture's (names, shapes, float32). */
export function checkWeightList(info: SavedModelInfo, expected: ExpectedWeight[], arch: string): void {
  const specs = new Map(info.groups.flatMap((g) => g.specs).map((s) => [s.name, s]));
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const e of expected) {
    const s = specs.get(e.name);
    if (s === undefined) missing.push(e.name);
    else if (s.dtype !== 'float32' || s.shape.length !== e.shape.length || s.shape.some((d, i) => d !== e.shape[i])) {
      wrong.push(`${quote(e.name)} is [${s.shape.join(', ')}] ${s.dtype}${s.quantization ? ` (quantized)` : ''}, ${arch} needs [${e.shape.join(', ')}] float32`);
    }
  }
  const want = new Set(expected.map((e) => e.name));
  const extra = [...specs.keys()].filter((n) => !want.has(n)).map(quote);
  if (missing.length + wrong.length + extra.length === 0) return;
  const parts = [`the weights in ${info.jsonPath} are not those of ${arch}:`];
  if (missing.length > 0) parts.push(`  ${missing.length} missing: ${list(missing)}`);
  if (extra.length > 0) parts.push(`  ${extra.length} unexpected: ${list(extra)}`);
  if (wrong.length > 0) parts.push(`  ${wrong.length} of the wrong shape or dtype:\n    ${wrong.slice(0, MAX_LISTED).join('\n    ')}${wrong.length > MAX_LISTED ? `\n    ... and ${wrong.length - MAX_LISTED} more` : ''}`);
  throw new UserError(parts.join('\n'));
}

export interface SavedWeightsOptions {
  /** Accept NaN/Inf weights and negative running variances (default: refuse them). */
  allowNonfinite?: boolean;
  /** Load into this model (built from the same graph) instead of building one. */
  into?: tf.LayersModel;
}

/**
 * Builds `graph`'s model and loads the saved weights into it, after checking the weight list
 * against the architecture (checkWeightList) and, unless allowed, that every value is a number
 * and every running variance non-negative.
 */
export function modelFromSaved(info: SavedModelInfo, graph: CompiledGraph, options: SavedWeightsOptions = {}): tf.LayersModel {
  const expected = expectedWeights(graph);
  checkWeightList(info, expected, graph.name);
  const data = readWeightData(info.jsonPath, info.groups);
  const decoded = tf.io.decodeWeights(data, info.groups.flatMap((g) => g.specs));
  try {
    if (!options.allowNonfinite) {
      const check = new ValueCheck(info.jsonPath);
      for (const e of expected) check.add(e.name, decoded[e.name].dataSync() as Float32Array, e.variance);
      check.throwIfAny();
    }
    const model = options.into ?? buildModel(graph, { probe: false });
    for (const w of model.weights) {
      const t = decoded[w.originalName];
      if (t === undefined) {
        if (options.into === undefined) model.dispose();
        throw new UserError(`the weights in ${info.jsonPath} lack ${quote(w.originalName)}, which ${graph.name} has`);
      }
      w.write(t);
    }
    return model;
  } finally {
    tf.dispose(Object.values(decoded));
  }
}
