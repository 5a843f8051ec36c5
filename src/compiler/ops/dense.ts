import { fmt, type WrittenOpDef } from './define.js';

export interface DenseAttrs {
  units: number;
  bias: boolean;
}

/** nn.Linear: weight [out, in], then bias [out] when it has one. */
export const dense: WrittenOpDef<DenseAttrs> = {
  description: 'Fully connected layer on a flat tensor.',
  plan(args) {
    const units = args.numbers('units');
    return units && { units: units[0], bias: args.flag('bias', true) };
  },
  shape(a, [x]) {
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
    const weight = { role: 'weight' as const, shape: [a.units, x[0]], kind: 'param' as const };
    return a.bias ? [weight, { role: 'bias', shape: [a.units], kind: 'param' }] : [weight];
  },
  macs: (a, [x]) => x[0] * a.units,
  countsActivations: true,
  keepsBlockPath: false,
  describe: (a) => `dense ${a.units}`,
};
