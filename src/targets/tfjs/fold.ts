/**
 * The inference emission: each batch norm that follows a conv is folded into that conv's kernel
 * and bias, and a relu that follows is fused into the conv kernel (TF.js's fused conv + bias +
 * relu), as the compiler's fold plan says (src/compiler/analyses/fold.ts, with the arithmetic).
 * The folded model computes the same function as the trained one in inference mode, with fewer
 * kernels and passes over memory; it cannot be trained further.
 */
import * as tf from '@tensorflow/tfjs';
import { nodeAs } from '../../compiler/ops.js';
import { planFolding as planFoldingFor, type FoldedConv, type FoldPlan } from '../../compiler/analyses/fold.js';
import type { CompiledGraph, GraphNode } from '../../compiler/types.js';
import { emitGraph } from './build.js';
import { emitConv, emitNode } from './emit.js';
import { InternalError, UserError } from '../../errors/index.js';
import * as skipgraphLayerClasses from './layers/index.js';
import { verifyModel } from './verify.js';

export type { FoldedConv, FoldPlan } from '../../compiler/analyses/fold.js';

/**
 * Which convs take which batch norm and relu: the compiler's plan (src/compiler/analyses/fold.ts),
 * with TF.js's relu fusion. A relu is fused only into plain (groups == 1) convs: TF.js's grouped
 * path has no fused kernel.
 */
export function planFolding(compiled: CompiledGraph): FoldPlan {
  return planFoldingFor(compiled, { fuseRelu: (conv) => conv.attrs.groups === 1 });
}

export interface FoldResult {
  model: tf.LayersModel;
  plan: FoldPlan;
  /** Parameters before (the trained model's) and after folding. */
  params: { before: number; after: number };
  /**
   * skipgraph's own layer classes the folded model still uses (loading it needs skipgraph's
   * runtime); empty when plain TF.js can load it, as for every torchvision ResNet.
   */
  skipgraphLayers: string[];
}

/**
 * Builds the inference model of `compiled` from a model built from it (buildModel, a training
 * run, an imported state_dict): folded convs get the folded weights, every other layer the
 * source's weights. The result is checked like buildModel's: every kept node's symbolic output
 * shape and parameter count, and the totals (no probe pass: the source was probed when built).
 */
export function foldForInference(source: tf.LayersModel, compiled: CompiledGraph): FoldResult {
  const plan = planFolding(compiled);
  const heads = new Map(plan.convs.map((c) => [c.conv, c]));
  const byId = new Map(compiled.nodes.map((n) => [n.id, n]));
  const model = emitGraph(compiled, (node, inputs, ctx) => {
    const into = plan.absorbedInto.get(node.id);
    if (into !== undefined) return inputs[0]; // its conv already produced this value
    const chain = heads.get(node.id);
    if (chain !== undefined) return emitConv(nodeAs(node, 'conv'), inputs[0], ctx, { bias: true, activation: chain.activation === undefined ? undefined : 'relu' });
    const from = byId.get(node.inputs[0]);
    return emitNode(node, inputs, { ...ctx, zeroGamma: new Set(), nonNegativeInput: from !== undefined && NON_NEGATIVE.has(from.op) });
  });
  try {
    verifyModel(model, compiled, { probe: false, folded: plan });
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const chain = heads.get(layer.name);
      const weights = chain !== undefined ? foldedWeights(source, chain, byId) : sourceWeights(source, layer.name);
      layer.setWeights(weights);
      tf.dispose(weights);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  const skipgraphLayers = [...new Set(model.layers.filter((l) => SKIPGRAPH_LAYERS.some((c) => l instanceof c)).map((l) => l.getClassName()))];
  return { model, plan, params: { before: source.countParams(), after: model.countParams() }, skipgraphLayers };
}

/** Ops whose output is never negative: a max-pool after them pads with zeros, as -inf would do. */
const NON_NEGATIVE = new Set(['relu', 'relu6', 'sigmoid']);

/** Every layer class of skipgraph's own (a model using one needs skipgraph's runtime to load). */
const SKIPGRAPH_LAYERS: (abstract new (...args: never[]) => unknown)[] = Object.values(skipgraphLayerClasses);

function sourceLayer(source: tf.LayersModel, name: string): tf.layers.Layer {
  const layer = source.layers.find((l) => l.name === name);
  if (layer === undefined) throw new UserError(`the model to fold has no layer '${name}'; was it built from this architecture?`);
  return layer;
}

/** Copies (setWeights takes ownership of nothing, so the copies are disposed after use). */
function sourceWeights(source: tf.LayersModel, name: string): tf.Tensor[] {
  return sourceLayer(source, name).getWeights().map((w) => w.clone());
}

/** The folded kernel and bias of one conv (the bias is new when the conv had none). */
function foldedWeights(source: tf.LayersModel, chain: FoldedConv, byId: Map<string, GraphNode>): tf.Tensor[] {
  const a = nodeAs(byId.get(chain.conv), 'conv').attrs;
  const [kernel, bias] = sourceLayer(source, chain.conv).getWeights();
  if (kernel === undefined || (a.bias && bias === undefined)) throw new UserError(`layer '${chain.conv}' of the model to fold has no kernel or bias`);
  return tf.tidy(() => {
    const b = a.bias ? bias : tf.zeros([a.filters]);
    if (chain.bn === undefined) return [kernel.clone(), b.clone()];
    const { gamma, beta, mean, variance } = batchNormWeights(sourceLayer(source, chain.bn));
    const eps = nodeAs(byId.get(chain.bn), 'bn').attrs.epsilon;
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, eps)));
    // The kernel's last axis is the output channel ([kh, kw, in / groups, filters]): scale broadcasts.
    return [tf.mul(kernel, scale), tf.add(tf.mul(tf.sub(b, mean), scale), beta)];
  });
}

/** A batch norm layer's four tensors, by name (gamma, beta, moving mean and variance). */
function batchNormWeights(layer: tf.layers.Layer) {
  const find = (suffix: string) => {
    const i = layer.weights.findIndex((w) => w.originalName.endsWith(`/${suffix}`));
    if (i < 0) throw new InternalError(`batch norm '${layer.name}' has no ${suffix}`);
    return layer.weights[i].read();
  };
  return { gamma: find('gamma'), beta: find('beta'), mean: find('moving_mean'), variance: find('moving_variance') };
}
