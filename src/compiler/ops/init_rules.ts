/**
 * How an op's fresh tensors are drawn: torchvision's initialisation, written once as rules an op
 * names in its definition (`init`). analyses/init.ts turns them into the plan every target draws
 * from; this file only says which distribution, with which fan.
 * - conv weight: kaiming_normal_(mode='fan_out', nonlinearity='relu'): N(0, sqrt(2 / fan_out)),
 *   fan_out = out_channels * kh * kw (PyTorch counts every output channel, groups or not).
 *   tf.initializers.heNormal would be wrong twice: fan_in, and a truncated normal.
 * - conv bias, linear weight and bias: PyTorch's default (reset_parameters),
 *   U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kh * kw for a conv and
 *   in_features for a linear (kaiming_uniform_ with a = sqrt(5) gives that bound for weights).
 * - norms: constants (batch norm's weight 1, or 0 for a block-ending one under zero-init residual).
 */
import type { StateRole } from './define.js';

/** One tensor's fresh values: every element drawn independently. */
export type Draw =
  /** N(0, std), std = sqrt(2 / fan_out). */
  | { kind: 'normal'; std: number; fanOut: number }
  /** U(-bound, bound), bound = 1 / sqrt(fan_in). */
  | { kind: 'uniform'; bound: number; fanIn: number }
  | { kind: 'constant'; value: number };

/**
 * The draw of one tensor of a node, from its role and the node's weight shape (PyTorch's layout,
 * so the fan is counted as PyTorch counts it; [] when the node has no `weight`). `zeroGamma`: the
 * node is a block-ending batch norm under zero-init residual (analyses/block_last.ts).
 */
export type InitRule = (role: StateRole, weight: readonly number[], zeroGamma: boolean) => Draw;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** kaiming_normal_(mode='fan_out', nonlinearity='relu') of a conv weight [O, I/g, kh, kw]. */
export const kaimingFanOut = (weight: readonly number[]): Draw => {
  const fanOut = weight[0] * weight[2] * weight[3];
  return { kind: 'normal', std: Math.sqrt(2 / fanOut), fanOut };
};

/** PyTorch's reset_parameters bound: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export const fanInUniform = (fanIn: number): Draw => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn), fanIn });

/** A conv: kaiming normal weight, bias by fan_in = I/g * kh * kw. */
export const convInit: InitRule = (role, weight) => (role === 'weight' ? kaimingFanOut(weight) : fanInUniform(size(weight.slice(1))));

/** A linear layer's weight [out, in] and bias: U by fan_in = in. */
export const linearInit: InitRule = (_role, weight) => fanInUniform(weight[1]);

/** Every tensor of the op one constant. */
export const constantInit =
  (value: number): InitRule =>
  () => ({ kind: 'constant', value });
