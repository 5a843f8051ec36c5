import * as tf from '@tensorflow/tfjs';
import { outputNodes } from '../../compiler/features.js';
import type { CompiledGraph, GraphNode } from '../../compiler/types.js';
import { emitNode } from './emit.js';
import { blockLastBatchNorms } from '../../compiler/analyses/block_last.js';
import { DEFAULT_LIMITS, formatBytes } from '../../compiler/limits.js';
import { InternalError, UserError } from '../../errors/index.js';
import { verifyModel } from './verify.js';

export interface BuildOptions {
  /** Seeds every initializer (per layer, derived); omitted: fresh random weights. */
  seed?: number;
  /** Start each residual block's last batch-norm gamma at 0 (torchvision's zero_init_residual). */
  zeroInitResidual?: boolean;
  /**
   * Also run one zero image through the model and compare every node's real output shape
   * (default true; the symbolic shapes and parameter counts are always checked).
   */
  probe?: boolean;
  /**
   * The batch the model will run (training's batch size): with the probe's own batch of 1, the
   * activation memory it must fit in `maxActivationBytes`, checked before anything is allocated.
   */
  batch?: number;
  /** Refuse (UserError) above this many bytes of forward activations (default 16 GiB). */
  maxActivationBytes?: number;
}

/**
 * Emits the compiled graph as a TF.js functional model whose layer names are the node ids, then
 * checks it against the compiler: every node's output shape and parameter count, and the
 * totals. A mismatch throws an InternalError (a skipgraph bug), never passes silently.
 */
export function buildModel(compiled: CompiledGraph, options: BuildOptions = {}): tf.LayersModel {
  checkActivationBudget(compiled, options);
  const zeroGamma = new Set(options.zeroInitResidual ? blockLastBatchNorms(compiled) : []);
  const model = emitGraph(compiled, (node, inputs, ctx) => emitNode(node, inputs, { ...ctx, seed: options.seed, zeroGamma }));
  verifyModel(model, compiled, { probe: options.probe ?? true });
  return model;
}

/**
 * Building allocates: the probe runs one sample and holds every node's output, training holds a
 * batch of them. Checked before any tensor exists, from the compiler's per-sample estimate (which
 * counts the input) and the real batch.
 */
function checkActivationBudget(compiled: CompiledGraph, options: BuildOptions): void {
  const limit = options.maxActivationBytes ?? DEFAULT_LIMITS.maxActivationBytes;
  const perSample = compiled.totals.activationBytes;
  const batch = Math.max(options.batch ?? 1, options.probe === false ? 0 : 1);
  if (batch === 0 || perSample * batch <= limit) return;
  throw new UserError(
    `${compiled.name}: a batch of ${batch} needs an estimated ${formatBytes(perSample * batch)} of float32 forward activations (${formatBytes(perSample)} per sample), over the limit of ${formatBytes(limit)}; nothing was allocated. Use a smaller input or batch, or raise the limit (--max-activation-bytes, BuildOptions.maxActivationBytes).`,
  );
}

/** Emits one node (or returns the symbol it shares with an earlier node, when it is folded away). */
export type NodeEmitter = (node: GraphNode, inputs: tf.SymbolicTensor[], ctx: { shapeOf(id: string): number[]; index: number }) => tf.SymbolicTensor;

/**
 * Walks the compiled graph in order and wires a TF.js functional model from what `emit` returns
 * for each node (the input node is made here). The model is not checked; callers verify it.
 */
export function emitGraph(compiled: CompiledGraph, emit: NodeEmitter): tf.LayersModel {
  const byId = new Map(compiled.nodes.map((n) => [n.id, n]));
  const symbols = new Map<string, tf.SymbolicTensor>();
  let input: tf.SymbolicTensor | undefined;
  compiled.nodes.forEach((node, index) => {
    if (node.op === 'input') {
      if (input !== undefined) throw new InternalError('the compiled graph has more than one input');
      input = tf.input({ shape: node.shape, name: node.id });
      symbols.set(node.id, input);
      return;
    }
    const inputs = node.inputs.map((id) => {
      const s = symbols.get(id);
      if (s === undefined) throw new InternalError(`node ${node.id} uses ${id} before it is defined`);
      return s;
    });
    const shapeOf = (id: string) => byId.get(id)!.shape;
    symbols.set(node.id, emit(node, inputs, { shapeOf, index }));
  });
  // A classifier has one output (predict returns a tensor); a backbone one per feature, in the
  // file's order (predict returns an array), as timm's features_only returns a list.
  const outputs = outputNodes(compiled).map((id) => {
    const s = symbols.get(id);
    if (s === undefined) throw new InternalError(`the compiled graph lacks its output node ${id}`);
    return s;
  });
  if (input === undefined) throw new InternalError('the compiled graph lacks its input node');
  return tf.model({ inputs: input, outputs: compiled.kind === 'classifier' ? outputs[0] : outputs, name: modelName(compiled.name) });
}

/** TF.js model names follow its tensor-name rule. */
function modelName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._/-]/g, '_');
  return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `m${cleaned}`;
}
