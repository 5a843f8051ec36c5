import { channelAffine, type WrittenOpDef } from './define.js';

export interface BnAttrs {
  /** PyTorch's epsilon (default 1e-5). */
  epsilon: number;
  /** PyTorch's momentum convention: running = (1 - m) * running + m * batch (default 0.1). */
  momentum: number;
  /** The last BN of a built-in block's main path (its gamma starts at 0 under zero-init residual). */
  blockLast?: boolean;
}

/** nn.BatchNorm2d over the last axis: weight, bias, running_mean, running_var, num_batches_tracked. */
export const bn: WrittenOpDef<BnAttrs> = {
  description: 'Batch normalisation over channels.',
  plan(args) {
    const [epsilon, momentum] = ['epsilon', 'momentum'].map((k) => args.numbers(k));
    if (!epsilon || !momentum) return undefined;
    return { epsilon: epsilon.length ? epsilon[0] : 1e-5, momentum: momentum.length ? momentum[0] : 0.1 };
  },
  shape: (_, [x]) => x,
  state(_, __, out) {
    const c = [out[out.length - 1]];
    return [
      ...channelAffine(out),
      { role: 'running_mean', shape: c, kind: 'buffer' },
      { role: 'running_var', shape: c, kind: 'buffer' },
      { role: 'num_batches_tracked', shape: [], kind: 'counter' },
    ];
  },
  macs: () => 0,
  // Weight 1 (0 for a block-ending BN under zero-init residual), bias 0, running_mean 0, running_var 1.
  init: (role, _weight, zeroGamma) => ({ kind: 'constant', value: role === 'running_var' ? 1 : role === 'weight' && !zeroGamma ? 1 : 0 }),
  countsActivations: false,
  activation: false,
  example: { layer: '{ op: bn, epsilon: 0.001, momentum: 0.3 }', takes: 'map', gives: 'map' },
  keepsBlockPath: false,
  describe: () => 'bn',
};
