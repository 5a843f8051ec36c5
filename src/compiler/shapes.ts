import { opDef, type OpAttrs, type OpKind, type ShapeError } from './ops.js';

export type { ShapeError } from './ops.js';
export { convOut, poolOutCeil } from './ops/define.js';

/**
 * Output shape of one op from its input shapes (channels-last, no batch), with PyTorch's
 * arithmetic: the op's own rule in the registry. Returns a ShapeError instead of a shape when the
 * inputs cannot fit.
 */
export function inferShape<K extends OpKind>(op: K, attrs: OpAttrs[K], inputs: number[][]): number[] | ShapeError {
  return opDef(op).shape(attrs, inputs);
}

export function isShapeError(x: number[] | ShapeError): x is ShapeError {
  return !Array.isArray(x);
}
