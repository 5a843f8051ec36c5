import { stateless, type NoAttrs, type WrittenOpDef } from './define.js';

/** An elementwise activation: no attributes, no state, the input's shape. */
function activation(name: string, description: string): WrittenOpDef<NoAttrs> {
  return { description, plan: () => ({}), shape: (_, [x]) => x, ...stateless, keepsBlockPath: true, describe: () => name };
}

export const relu = activation('relu', 'max(x, 0).');
export const relu6 = activation('relu6', 'min(max(x, 0), 6).');
export const sigmoid = activation('sigmoid', '1 / (1 + exp(-x)).');
export const silu = activation('silu', 'x * sigmoid(x) (swish).');
export const tanh = activation('tanh', 'Hyperbolic tangent.');
