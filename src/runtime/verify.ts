import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../compiler/types.js';
import { InternalError } from './errors.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const same = (a: readonly (number | null)[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const fmt = (s: readonly (number | null)[]) => `[${s.join(', ')}]`;

/**
 * Compares the built model with the compiled graph: each node's layer output shape (symbolic,
 * and with `probe` the shape of a real forward pass) and parameter counts, and the totals.
 */
export function verifyModel(model: tf.LayersModel, compiled: CompiledGraph, options: { probe: boolean }): void {
  const problems: string[] = [];
  for (const node of compiled.nodes) {
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(node.id);
    } catch {
      problems.push(`${node.id}: no layer of that name`);
      continue;
    }
    const shape = (layer.outputShape as (number | null)[]).slice(1);
    if (!same(shape, node.shape)) problems.push(`${node.id}: output ${fmt(shape)}, compiler says ${fmt(node.shape)}`);
    const trainable = layer.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0);
    const frozen = layer.nonTrainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0);
    if (trainable !== node.params.trainable || frozen !== node.params.nonTrainable) {
      problems.push(
        `${node.id}: ${trainable} trainable + ${frozen} non-trainable parameters, compiler says ` +
          `${node.params.trainable} + ${node.params.nonTrainable}`,
      );
    }
  }
  const trainable = model.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0);
  const total = model.countParams();
  if (total !== compiled.totals.params || trainable !== compiled.totals.trainableParams) {
    problems.push(
      `model: ${total} parameters (${trainable} trainable), compiler says ${compiled.totals.params} ` +
        `(${compiled.totals.trainableParams} trainable)`,
    );
  }
  if (problems.length === 0 && options.probe) problems.push(...probeShapes(model, compiled));
  if (problems.length > 0) {
    const shown = problems.slice(0, 12).join('\n  ');
    const more = problems.length > 12 ? `\n  ... and ${problems.length - 12} more` : '';
    throw new InternalError(`the TF.js model of ${compiled.name} disagrees with the compiler:\n  ${shown}${more}`);
  }
}

/** Runs one zero image through a model that exposes every node's output, and compares real shapes. */
function probeShapes(model: tf.LayersModel, compiled: CompiledGraph): string[] {
  const nodes = compiled.nodes.filter((n) => n.op !== 'input');
  const outputs = nodes.map((n) => model.getLayer(n.id).output as tf.SymbolicTensor);
  const probe = tf.model({ inputs: model.inputs, outputs });
  const { height, width, channels } = compiled.input;
  const problems: string[] = [];
  tf.tidy(() => {
    const result = probe.predict(tf.zeros([1, height, width, channels])) as tf.Tensor | tf.Tensor[];
    const tensors = Array.isArray(result) ? result : [result];
    tensors.forEach((t, i) => {
      const shape = t.shape.slice(1);
      if (t.shape[0] !== 1 || !same(shape, nodes[i].shape)) {
        problems.push(`${nodes[i].id}: a real forward pass gives ${fmt(t.shape)}, compiler says [1, ${nodes[i].shape.join(', ')}]`);
      }
    });
  });
  return problems;
}
