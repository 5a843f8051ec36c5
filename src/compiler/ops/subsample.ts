import { needMap, st, stateless, type InsertedOpDef } from './define.js';

/** x[::sh, ::sw, :] (the CIFAR "option A" shortcut). */
export interface SubsampleAttrs {
  stride: [number, number];
}

export const subsample: InsertedOpDef<SubsampleAttrs> = {
  description: 'Every stride-th row and column (the zeropad shortcut rule, CIFAR "option A").',
  plan: null,
  shape(a, [x]) {
    const bad = needMap('subsample', x);
    if (bad) return bad;
    const [sh, sw] = a.stride;
    return [Math.ceil(x[0] / sh), Math.ceil(x[1] / sw), x[2]];
  },
  ...stateless,
  activation: false,
  example: { stage: '{ block: basic, channels: 8, blocks: 1, stride: 2, shortcut: zeropad }' },
  keepsBlockPath: false,
  describe: (a) => `subsample${st(a.stride)}`,
};
