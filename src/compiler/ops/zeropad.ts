import { needMap, quad, stateless, type WrittenOpDef } from './define.js';

export interface ZeroPadAttrs {
  /** [top, bottom, left, right]. */
  padding: [number, number, number, number];
}

/** nn.ZeroPad2d. */
export const zeropad: WrittenOpDef<ZeroPadAttrs> = {
  description: 'Explicit zero padding of the map.',
  plan(args) {
    const padding = args.numbers('padding');
    return padding && { padding: quad(padding) };
  },
  shape(a, [x]) {
    const bad = needMap('zeropad', x);
    if (bad) return bad;
    const [t, b, l, r] = a.padding;
    return [x[0] + t + b, x[1] + l + r, x[2]];
  },
  ...stateless,
  activation: false,
  // At most 1 a side: onnxruntime fuses a Pad into a following pool and refuses pads >= kernel.
  example: { layer: '{ op: zeropad, padding: [1, 0, 0, 1] }', takes: 'map', gives: 'map' },
  keepsBlockPath: false,
  describe: (a) => `zeropad ${a.padding.join(',')}`,
};
