/**
 * Loading a PyTorch state_dict (saved as safetensors) into a model buildModel emitted, and
 * reading a model's weights back out as a state_dict.
 */
import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../../../compiler/types.js';
import { InternalError } from '../../../errors/index.js';
import { ValueCheck } from '../../../formats/finite.js';
import { openSafetensors, serializeSafetensors, type TensorSource, type Float32ToWrite } from '../../../formats/safetensors.js';
import { checkStateDict, hasProblems, layerVariable, StateDictError, stateDictSlots, type ParamSlot } from './state_dict.js';

export interface LoadOptions {
  /**
   * What precedes every key in the file. Default: 'module.' when every key starts with it
   * (a checkpoint saved from nn.DataParallel), else nothing.
   */
  prefix?: string;
  /** Accept NaN/Inf values and negative running variances (default: refuse them, as a NonFiniteError). */
  allowNonfinite?: boolean;
}

export interface LoadReport {
  /** The file (or in-memory source) read. */
  source: string;
  /** Tensors loaded into the model. */
  tensors: number;
  /** Numbers loaded (parameters and running statistics). */
  values: number;
  /** Keys of the file that were skipped on purpose (num_batches_tracked). */
  ignored: string[];
  prefix: string;
}

function detectPrefix(names: string[]): string {
  return names.length > 0 && names.every((n) => n.startsWith('module.')) ? 'module.' : '';
}

/**
 * Checks the file against the architecture (every missing, unexpected and misshapen tensor is
 * reported at once, as a StateDictError) and then writes each tensor into its layer, converted
 * to TF.js's layout. Nothing is written unless everything fits, and (unless allowNonfinite)
 * every value is a number and every running variance non-negative.
 */
export function loadStateDict(model: tf.LayersModel, graph: CompiledGraph, from: string | TensorSource, options: LoadOptions = {}): LoadReport {
  const src = typeof from === 'string' ? openSafetensors(from) : from;
  try {
    const names = [...src.header.tensors.keys()];
    const prefix = options.prefix ?? detectPrefix(names);
    const slots = stateDictSlots(graph);
    const problems = checkStateDict(slots, src.header.tensors, prefix);
    if (hasProblems(problems)) throw new StateDictError(src.source, graph.name, problems);
    if (!options.allowNonfinite) {
      const check = new ValueCheck(src.source);
      for (const s of slots) check.add(prefix + s.key, src.float32(prefix + s.key), s.variable === 'moving_variance');
      check.throwIfAny();
    }
    const byLayer = new Map<string, ParamSlot[]>();
    for (const s of slots) byLayer.set(s.node, [...(byLayer.get(s.node) ?? []), s]);
    let values = 0;
    for (const [node, layerSlots] of byLayer) {
      const layer = model.getLayer(node);
      for (const slot of layerSlots) {
        const variable = layerVariable(layer, slot.variable);
        const vs = variable.shape as number[];
        if (vs.length !== slot.tfShape.length || vs.some((d, i) => d !== slot.tfShape[i])) {
          throw new InternalError(`${node}/${slot.variable} is [${vs.join(', ')}] in the model but the compiler says [${slot.tfShape.join(', ')}]`);
        }
        const data = slot.toTf(src.float32(prefix + slot.key));
        const t = tf.tensor(data, slot.tfShape, 'float32');
        variable.write(t);
        t.dispose();
        values += data.length;
      }
    }
    const used = new Set(slots.map((s) => prefix + s.key));
    return { source: src.source, tensors: slots.length, values, ignored: names.filter((n) => !used.has(n)), prefix };
  } finally {
    if (typeof from === 'string') src.close();
  }
}

/** The model's weights as a PyTorch state_dict (torch names and layouts, float32), in graph order. */
export function readStateDict(model: tf.LayersModel, graph: CompiledGraph): Map<string, Float32ToWrite> {
  const out = new Map<string, Float32ToWrite>();
  for (const slot of stateDictSlots(graph)) {
    const variable = layerVariable(model.getLayer(slot.node), slot.variable);
    const data = variable.read().dataSync() as Float32Array;
    out.set(slot.key, { shape: slot.torchShape, data: slot.toTorch(data) });
  }
  return out;
}

/** readStateDict as safetensors bytes (num_batches_tracked is not written). */
export function stateDictBytes(model: tf.LayersModel, graph: CompiledGraph, metadata: Record<string, string> = {}): Uint8Array {
  return serializeSafetensors(readStateDict(model, graph), { format: 'pt', architecture: graph.name, ...metadata });
}
