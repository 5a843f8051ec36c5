import type { GraphNode } from '../types.js';

const hw = (v: unknown) => {
  const [a, b] = v as number[];
  return a === b ? `${a}x${a}` : `${a}x${b}`;
};
const st = (v: unknown) => {
  const [a, b] = v as number[];
  return a === 1 && b === 1 ? '' : a === b ? `/${a}` : `/${a}x${b}`;
};

/** A short, readable form of an op and its key attributes: `conv 3x3/2 g32`, `maxpool 3x3/2`. */
export function describeOp(n: GraphNode): string {
  const a = n.attrs as Record<string, any>;
  switch (n.op) {
    case 'conv': {
      const g = a.groups > 1 ? ` g${a.groups}` : '';
      const d = a.dilation[0] > 1 || a.dilation[1] > 1 ? ` d${a.dilation[0]}` : '';
      return `conv ${hw(a.kernel)}${st(a.stride)}${g}${d}${a.bias ? ' +b' : ''}`;
    }
    case 'maxpool':
    case 'avgpool':
      return `${n.op} ${hw(a.kernel)}${st(a.stride)}${a.ceil ? ' ceil' : ''}`;
    case 'subsample':
      return `subsample${st(a.stride)}`;
    case 'channel_pad':
      return `channel_pad +${a.before + a.after}`;
    case 'zeropad':
      return `zeropad ${(a.padding as number[]).join(',')}`;
    case 'dropout':
      return `dropout ${a.rate}`;
    case 'drop_path':
      return `drop_path ${Number(a.rate.toPrecision(4))}`;
    case 'dense':
      return `dense ${a.units}`;
    default:
      return n.op;
  }
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
