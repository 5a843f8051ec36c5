import * as tf from '@tensorflow/tfjs';
import { unreachableOp } from '../../compiler/ops.js';
import type { GraphNode, NodeOf, OpKind } from '../../compiler/types.js';
import { InternalError } from '../../errors/index.js';
import { nodeInit } from '../../compiler/analyses/init.js';
import { deriveSeed } from '../../random/index.js';
import { initializerOf } from './init.js';
import { ChannelPad, DropPath, GlobalAveragePooling2DKeepDims, GroupedConv2D, HardSigmoid, HardSwish, LayerScale, NegInfPadding2D, Subsample, TorchBatchNorm } from './layers/index.js';
import { paddingMode, tfSamePads } from './padding.js';

type Sym = tf.SymbolicTensor;

export interface EmitContext {
  /** Output shape (no batch) of every node emitted so far. */
  shapeOf(id: string): number[];
  /** Position of the node in the graph (for per-layer seeds). */
  index: number;
  seed?: number;
  /** Node ids of batch norms whose gamma starts at 0 (zero-init residual). */
  zeroGamma: ReadonlySet<string>;
  /**
   * The node's input is never negative (it comes out of a relu): a max-pool may then pad with
   * zeros instead of -inf, which is the same result with a stock layer (the inference emission).
   */
  nonNegativeInput?: boolean;
}

const ACTIVATIONS: Partial<Record<OpKind, string>> = {
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  silu: 'swish', // x * sigmoid(x)
  gelu: 'gelu', // TF.js's gelu is the exact one (erf), as nn.GELU()
};

/** Suffix of the helper layers (explicit padding) that precede a node's own layer. */
export const PAD_SUFFIX = '_pad';

function apply(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** Emits the layer(s) for one compiled node; the last (or only) layer carries the node id as its name. */
export function emitNode(node: GraphNode, inputs: Sym[], ctx: EmitContext): Sym {
  const [x] = inputs;
  const name = node.id;
  switch (node.op) {
    case 'input':
      throw new InternalError(`the input node ${node.id} is the model's input, not a layer`);
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'tanh':
    case 'silu':
    case 'gelu':
      return apply(tf.layers.activation({ name, activation: ACTIVATIONS[node.op] as 'relu' }), x);
    case 'leaky_relu':
      return apply(tf.layers.leakyReLU({ name, alpha: node.attrs.slope }), x);
    case 'hardswish':
      return apply(new HardSwish({ name }), x);
    case 'hardsigmoid':
      return apply(new HardSigmoid({ name }), x);
    case 'conv':
      return emitConv(node, x, ctx);
    case 'bn': {
      const a = node.attrs;
      return apply(
        new TorchBatchNorm({
          name,
          axis: -1,
          epsilon: a.epsilon,
          // Keras: moving = momentum * moving + (1 - momentum) * batch; PyTorch's momentum is the other weight.
          momentum: 1 - a.momentum,
          gammaInitializer: ctx.zeroGamma.has(name) ? 'zeros' : 'ones',
        }),
        x,
      );
    }
    case 'layernorm':
      // Over the last axis: the channels of a channels-last map (LayerNorm2d), or a flat tensor.
      return apply(tf.layers.layerNormalization({ name, axis: -1, epsilon: node.attrs.epsilon }), x);
    case 'layer_scale': {
      const init = nodeInit(node, [ctx.shapeOf(node.inputs[0])]);
      return apply(new LayerScale({ name, gammaInitializer: initializerOf(init.self!) }), x);
    }
    case 'maxpool':
    case 'avgpool':
      return emitPool(node, x, ctx);
    case 'zeropad': {
      const [t, b, l, r] = node.attrs.padding;
      return apply(tf.layers.zeroPadding2d({ name, padding: [[t, b], [l, r]] }), x);
    }
    case 'subsample':
      return apply(new Subsample({ name, stride: node.attrs.stride }), x);
    case 'channel_pad':
      return apply(new ChannelPad({ name, before: node.attrs.before, after: node.attrs.after }), x);
    case 'global_avg_pool':
      return node.attrs.keepdims === true
        ? apply(new GlobalAveragePooling2DKeepDims({ name }), x)
        : apply(tf.layers.globalAveragePooling2d({ name }), x);
    case 'flatten': {
      // tf.layers.flatten refuses an input that is already flat ([batch, n]); a reshape to [n]
      // keeps one layer per node and is the same no-op PyTorch's flatten(x, 1) is there.
      const inShape = ctx.shapeOf(node.inputs[0]);
      if (inShape.length === 1) return apply(tf.layers.reshape({ name, targetShape: [inShape[0]] }), x);
      return apply(tf.layers.flatten({ name }), x);
    }
    case 'dropout':
      return apply(tf.layers.dropout({ name, rate: node.attrs.rate as number }), x);
    case 'drop_path':
      return apply(new DropPath({ name, rate: node.attrs.rate }), x);
    case 'dense': {
      const units = node.attrs.units;
      const init = nodeInit(node, [ctx.shapeOf(node.inputs[0])]);
      return apply(
        tf.layers.dense({
          name,
          units,
          useBias: init.bias !== undefined,
          kernelInitializer: initializerOf(init.weight!, deriveSeed(ctx.seed, ctx.index, 0)),
          biasInitializer: init.bias && initializerOf(init.bias, deriveSeed(ctx.seed, ctx.index, 1)),
        }),
        x,
      );
    }
    case 'add':
      return apply(tf.layers.add({ name }), inputs);
    case 'mul':
      // [x, gate]: the gate [1, 1, C] broadcasts over H and W.
      return apply(tf.layers.multiply({ name }), inputs);
    default:
      return unreachableOp(node, 'TensorFlow.js');
  }
}

/** How an inference emission changes a conv: a bias that carries a folded batch norm, a fused relu. */
export interface ConvFolding {
  bias: true;
  /** Fused into the conv kernel (stock Conv2D fuses only relu; the plan fuses it only for groups == 1). */
  activation?: 'relu';
}

/** Emits a conv (and its explicit padding layer); `fold` makes it the inference form. */
export function emitConv(node: NodeOf<'conv'>, x: Sym, ctx: Pick<EmitContext, 'shapeOf' | 'index' | 'seed'>, fold?: ConvFolding): Sym {
  const a = node.attrs;
  const [h, w, inChannels] = ctx.shapeOf(node.inputs[0]);
  let mode = paddingMode(a.padding, [h, w], a.kernel, a.stride, a.dilation);
  let input = x;
  if (mode === 'explicit') {
    const [t, b, l, r] = a.padding;
    input = apply(tf.layers.zeroPadding2d({ name: node.id + PAD_SUFFIX, padding: [[t, b], [l, r]] }), x);
    mode = 'valid';
  }
  // The compiler's initialisation plan; a bias the fold adds has none (zeros: the fold sets it).
  const init = nodeInit(node, [ctx.shapeOf(node.inputs[0])]);
  const kernelInitializer = initializerOf(init.weight!, deriveSeed(ctx.seed, ctx.index, 0));
  const biasInitializer = init.bias && initializerOf(init.bias, deriveSeed(ctx.seed, ctx.index, 1));
  const common = {
    name: node.id,
    filters: a.filters,
    kernelSize: [...a.kernel] as [number, number],
    strides: [...a.stride] as [number, number],
    dilationRate: [...a.dilation] as [number, number],
    padding: mode,
    useBias: fold !== undefined || a.bias,
    kernelInitializer,
    biasInitializer,
  };
  // Dilated convs train through GroupedConv2D's atrous path (TF.js's conv gradients assert dilation
  // 1); the inference form (fold) keeps the stock layer, whose forward handles dilation.
  const dilated = a.dilation.some((d) => d > 1);
  if (a.groups === 1 && (!dilated || fold !== undefined)) return apply(tf.layers.conv2d({ ...common, activation: fold?.activation }), input);
  if (fold?.activation !== undefined) throw new InternalError(`conv ${node.id}: a fused activation needs groups == 1`);
  return apply(new GroupedConv2D({ ...common, groups: a.groups }), input);
}

function emitPool(node: NodeOf<'maxpool' | 'avgpool'>, x: Sym, ctx: EmitContext): Sym {
  const a = node.attrs;
  const [h, w] = ctx.shapeOf(node.inputs[0]);
  const poolSize = [...a.kernel] as [number, number];
  const strides = [...a.stride] as [number, number];
  const make = node.op === 'maxpool' ? tf.layers.maxPooling2d : tf.layers.averagePooling2d;
  if (node.op === 'avgpool' && a.ceil) {
    // PyTorch ceil_mode with count_include_pad=False equals TF 'same' pooling when TF puts all
    // of its padding after the data and there is no explicit padding: windows then start at 0, s,
    // 2s, ... and padded cells are not counted. The ResNet-D shortcut pool (2x2, any stride) always
    // qualifies (TF pads at most one cell, after); verifyModel checks the output size.
    const [st] = tfSamePads(h, a.kernel[0], a.stride[0]);
    const [sl] = tfSamePads(w, a.kernel[1], a.stride[1]);
    const plain = a.padding.every((p) => p === 0);
    if (!plain || st !== 0 || sl !== 0) {
      throw new InternalError(`avgpool ${node.id}: ceil mode is supported where TF's 'same' pooling pads only after the data, without explicit padding`);
    }
    return apply(make({ name: node.id, poolSize, strides, padding: 'same' }), x);
  }
  const [t, l] = [a.padding[0], a.padding[2]];
  let [b, r] = [a.padding[1], a.padding[3]];
  if (a.ceil) {
    // Max-pool ceil mode: extend the bottom/right padding (with -inf) to PyTorch's ceil size.
    b += ceilExtra(h, a.kernel[0], a.stride[0], t, b);
    r += ceilExtra(w, a.kernel[1], a.stride[1], l, r);
  }
  // Max: TF's 'same' never lets padding win, as PyTorch's -inf padding. Avg: PyTorch's default
  // count_include_pad=True counts padded zeros, TF's 'same' does not, so avg pads explicitly.
  let mode = paddingMode([t, b, l, r], [h, w], a.kernel, a.stride);
  if (a.ceil || (mode === 'same' && node.op === 'avgpool')) mode = 'explicit';
  if (mode === 'explicit') {
    const padding: [[number, number], [number, number]] = [[t, b], [l, r]];
    const padName = node.id + PAD_SUFFIX;
    const padded =
      node.op === 'maxpool' && ctx.nonNegativeInput !== true
        ? apply(new NegInfPadding2D({ name: padName, padding }), x)
        : apply(tf.layers.zeroPadding2d({ name: padName, padding }), x);
    return apply(make({ name: node.id, poolSize, strides, padding: 'valid' }), padded);
  }
  return apply(make({ name: node.id, poolSize, strides, padding: mode }), x);
}

/** Extra end padding PyTorch's ceil_mode adds: windows may run past the end but must start inside. */
function ceilExtra(size: number, k: number, s: number, before: number, after: number): number {
  const span = size + before + after;
  let out = Math.ceil((span - k) / s) + 1;
  if ((out - 1) * s >= size + before) out -= 1;
  return Math.max(0, (out - 1) * s + k - span);
}
