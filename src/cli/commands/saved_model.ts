import type { CompiledGraph } from '../../compiler/types.js';
import { InputError } from '../io.js';

/** Refuses a saved model that lacks a layer of the compiled graph (a model of another architecture). */
export function requireLayers(model: { layers: { name: string }[] }, graph: CompiledGraph, dir: string): void {
  const names = new Set(model.layers.map((l) => l.name));
  const missing = graph.nodes.filter((n) => n.op !== 'input' && !names.has(n.id)).map((n) => n.id);
  if (missing.length > 0) {
    throw new InputError(`the model in ${dir} is not ${graph.name}: it has no layer ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? `, ... (${missing.length} in all)` : ''}`);
  }
}
