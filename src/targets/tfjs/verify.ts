import * as tf from '@tensorflow/tfjs';
import { nodeAs } from '../../compiler/ops.js';
import type { CompiledGraph, ParamCount } from '../../compiler/types.js';
import { InternalError } from '../../errors/index.js';
import type { FoldPlan } from './fold.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const same = (a: readonly (number | null)[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const fmt = (s: readonly (number | null)[]) => `[${s.join(', ')}]`;

/**
 * Compares the built model with the compiled graph: each node's layer output shape (symbolic,
 * and with `probe` the shape of a real forward pass) and parameter counts, and the totals. With
 * `folded` (an inference emission) the absorbed batch norms and activations have no layer, and
 * each folded conv has a bias and no batch-norm parameters.
 */
export function verifyModel(model: tf.LayersModel, compiled: CompiledGraph, options: { probe: boolean; folded?: FoldPlan }): void {
  const problems: string[] = [];
  const expected = expectedCounts(compiled, options.folded);
  for (const node of compiled.nodes) {
    if (options.folded?.absorbedInto.has(node.id)) {
      if (model.layers.some((l) => l.name === node.id)) problems.push(`${node.id}: folded away, yet the model has a layer of that name`);
      continue;
    }
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
    const want = expected.nodes.get(node.id) ?? node.params;
    if (trainable !== want.trainable || frozen !== want.nonTrainable) {
      problems.push(
        `${node.id}: ${trainable} trainable + ${frozen} non-trainable parameters, compiler says ` +
          `${want.trainable} + ${want.nonTrainable}`,
      );
    }
  }
  const trainable = model.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0);
  const total = model.countParams();
  if (total !== expected.params || trainable !== expected.trainable) {
    problems.push(`model: ${total} parameters (${trainable} trainable), compiler says ${expected.params} (${expected.trainable} trainable)`);
  }
  if (problems.length === 0 && options.probe) {
    // One by one: a node-sized list spread into push() can overflow the stack (issue 19, item 4).
    for (const p of probeShapes(model, compiled, (id) => options.folded?.absorbedInto.has(id) !== true)) problems.push(p);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 12).join('\n  ');
    const more = problems.length > 12 ? `\n  ... and ${problems.length - 12} more` : '';
    throw new InternalError(`the TF.js model of ${compiled.name} disagrees with the compiler:\n  ${shown}${more}`);
  }
}

/**
 * Parameter counts the model must have: the compiler's, or for an inference emission, those with
 * each folded batch norm gone and its conv given a bias (one per filter) where it had none.
 */
function expectedCounts(compiled: CompiledGraph, folded: FoldPlan | undefined) {
  const nodes = new Map<string, ParamCount>();
  let params = compiled.totals.params;
  let trainable = compiled.totals.trainableParams;
  const byId = new Map(compiled.nodes.map((n) => [n.id, n]));
  for (const chain of folded?.convs ?? []) {
    const conv = nodeAs(byId.get(chain.conv), 'conv');
    const a = conv.attrs;
    const added = a.bias ? 0 : a.filters;
    const bn = chain.bn === undefined ? { trainable: 0, nonTrainable: 0 } : byId.get(chain.bn)!.params;
    nodes.set(conv.id, { trainable: conv.params.trainable + added, nonTrainable: conv.params.nonTrainable });
    params += added - bn.trainable - bn.nonTrainable;
    trainable += added - bn.trainable;
  }
  return { nodes, params, trainable };
}

/** Runs one zero image through a model that exposes every kept node's output, and compares real shapes. */
function probeShapes(model: tf.LayersModel, compiled: CompiledGraph, kept: (id: string) => boolean): string[] {
  const nodes = compiled.nodes.filter((n) => n.op !== 'input' && kept(n.id));
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
