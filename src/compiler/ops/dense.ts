import { linearInit } from './init_rules.js';
import { fmt, needMap, size, type WrittenOpDef } from './define.js';

export interface DenseAttrs {
  units: number;
  bias: boolean;
  /** On the channels at every position of a map (nn.Linear on a channels-last tensor: ConvNeXt). */
  pointwise: boolean;
}

/** nn.Linear: weight [out, in], then bias [out] when it has one; `in` is the channels when pointwise. */
export const dense: WrittenOpDef<DenseAttrs> = {
  description: 'Fully connected layer on a flat tensor, or (pointwise) on the channels at every position of a map.',
  plan(args) {
    const units = args.numbers('units');
    return units && { units: units[0], bias: args.flag('bias', true), pointwise: args.flag('pointwise', false) };
  },
  shape(a, [x]) {
    if (a.pointwise) return needMap('dense', x) ?? [x[0], x[1], a.units];
    if (x.length !== 1) {
      return {
        code: 'dense-not-flat',
        message: `"dense" needs a flat input, but it gets a [${fmt(x)}] map.`,
        hint: 'Add {op: global_avg_pool} (or {op: flatten}) before the dense layer.',
      };
    }
    return [a.units];
  },
  state(a, [x]) {
    const weight = { role: 'weight' as const, shape: [a.units, x[x.length - 1]], kind: 'param' as const };
    return a.bias ? [weight, { role: 'bias', shape: [a.units], kind: 'param' }] : [weight];
  },
  macs: (a, [x]) => size(x) * a.units,
  init: linearInit,
  countsActivations: true,
  activation: false,
  example: { layer: '{ op: dense, units: 6 }', takes: 'flat', gives: 'flat' },
  keepsBlockPath: false,
  describe: (a) => `dense ${a.units}${a.pointwise ? ' pointwise' : ''}`,
};
