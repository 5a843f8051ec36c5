import { stateless, type ActivationDef } from './define.js';

export interface LeakyReluAttrs {
  /** The gain below zero: PyTorch's negative_slope (default 0.01). */
  slope: number;
}

/** nn.LeakyReLU(negative_slope): x for x >= 0, slope * x below. */
export const leaky_relu: ActivationDef<LeakyReluAttrs> = {
  description: "max(x, 0) + slope * min(x, 0) (PyTorch's nn.LeakyReLU).",
  plan(args) {
    const slope = args.numbers('slope');
    return slope && { slope: slope.length ? slope[0] : 0.01 };
  },
  shape: (_, [x]) => x,
  ...stateless,
  activation: true,
  example: { layer: '{ op: leaky_relu, slope: 0.2 }', takes: 'map', gives: 'map' },
  keepsBlockPath: true,
  describe: (a) => `leaky_relu ${a.slope}`,
};
