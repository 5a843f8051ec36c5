import { stateless, type ActivationDef, type NoAttrs } from './define.js';

/** An elementwise activation: no attributes, no state, the input's shape; a word for `post` and an SE's `activation`. */
function activation(name: string, description: string): ActivationDef<NoAttrs> {
  return { description, plan: () => ({}), shape: (_, [x]) => x, ...stateless, activation: true, example: { layer: `{ op: ${name} }`, takes: 'map', gives: 'map' }, keepsBlockPath: true, describe: () => name };
}

export const relu = activation('relu', 'max(x, 0).');
export const relu6 = activation('relu6', 'min(max(x, 0), 6).');
export const sigmoid = activation('sigmoid', '1 / (1 + exp(-x)).');
export const silu = activation('silu', 'x * sigmoid(x) (swish).');
export const tanh = activation('tanh', 'Hyperbolic tangent.');
export const hardswish = activation('hardswish', "x * relu6(x + 3) / 6 (PyTorch's nn.Hardswish).");
export const hardsigmoid = activation('hardsigmoid', "relu6(x + 3) / 6 (PyTorch's nn.Hardsigmoid).");
export const gelu = activation('gelu', "x * (1 + erf(x / sqrt(2))) / 2 (PyTorch's exact nn.GELU).");
