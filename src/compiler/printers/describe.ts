import { opDef } from '../ops.js';
import type { GraphNode } from '../types.js';

/** A short, readable form of an op and its key attributes (the op's own in the registry): `conv 3x3/2 g32`, `maxpool 3x3/2`. */
export function describeOp(n: GraphNode): string {
  return opDef(n.op).describe(n.attrs);
}

export const formatShape = (s: readonly number[]) => s.join('x');

/** 1,234,567 */
export const grouped = (n: number) => n.toLocaleString('en-US');

/**
 * "11,689,512 trainable params (11,699,112 with batch-norm statistics)": the one way every header
 * names parameters. Trainable is what torchvision's and torchinfo's "params" count; the total adds
 * the BN running means and variances (buffers in PyTorch, non-trainable weights in Keras).
 */
export function paramsLabel(t: { trainableParams: number; params: number }): string {
  return t.params === t.trainableParams ? `${grouped(t.trainableParams)} trainable params` : `${grouped(t.trainableParams)} trainable params (${grouped(t.params)} with batch-norm statistics)`;
}

/**
 * "1.81 G MACs", "401.84 M MACs": the one way every header names the multiply-accumulates (the
 * SVG legend and the HTML page alike; the summary table prints the exact count).
 */
export function macsLabel(macs: number): string {
  return macs >= 1e9 ? `${(macs / 1e9).toFixed(2)} G MACs` : `${(macs / 1e6).toFixed(2)} M MACs`;
}
