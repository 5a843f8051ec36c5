import { channelAffine, type WrittenOpDef } from './define.js';

export interface LayerNormAttrs {
  /** Added to the variance; PyTorch's default 1e-5 (ConvNeXt writes 1e-6). */
  epsilon: number;
}

/**
 * Layer normalisation over the channels of each position, with a per-channel gain and bias:
 * on a [H, W, C] map, torchvision's LayerNorm2d (ConvNeXt's: nn.LayerNorm over the channels of a
 * permuted NCHW tensor); on a flat [C] tensor, nn.LayerNorm(C). state_dict: weight, bias [C].
 */
export const layernorm: WrittenOpDef<LayerNormAttrs> = {
  description: 'Layer normalisation over channels, at every position (ConvNeXt\'s LayerNorm2d; nn.LayerNorm on a flat tensor).',
  plan(args) {
    const epsilon = args.numbers('epsilon');
    if (!epsilon) return undefined;
    return { epsilon: epsilon.length ? epsilon[0] : 1e-5 };
  },
  shape: (_, [x]) => x,
  state: (_, __, out) => channelAffine(out),
  macs: () => 0,
  // nn.LayerNorm's reset_parameters: weight ones, bias zeros.
  init: (role) => ({ kind: 'constant', value: role === 'weight' ? 1 : 0 }),
  countsActivations: false,
  activation: false,
  example: { layer: '{ op: layernorm, epsilon: 1.0e-6 }', takes: 'map', gives: 'map' },
  keepsBlockPath: false,
  describe: () => 'layernorm',
};
