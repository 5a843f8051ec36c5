import { constantInit } from './init_rules.js';
import { needMap, stateless, type NoAttrs, type WrittenOpDef } from './define.js';

/** torchvision's CNBlock: `self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)`, layer_scale = 1e-6. */
export const LAYER_SCALE_INIT = 1e-6;

/**
 * A learned per-channel gain on a map (ConvNeXt's layer scale, Touvron et al. 2021): x * gamma.
 * Its one tensor is an nn.Parameter of the enclosing module, not a module of its own, so its
 * state_dict key is the node id itself (`features.1.0.layer_scale`), shaped [C, 1, 1] as
 * torchvision's. It starts at 1e-6.
 */
export const layer_scale: WrittenOpDef<NoAttrs> = {
  description: "A learned per-channel gain, x * gamma (ConvNeXt's layer_scale: an nn.Parameter [C, 1, 1] named by the layer, starting at 1e-6).",
  plan: () => ({}),
  shape: (_, [x]) => needMap('layer_scale', x) ?? x,
  state: (_, __, out) => [{ role: 'self', shape: [out[2], 1, 1], kind: 'param' }],
  macs: stateless.macs,
  init: constantInit(LAYER_SCALE_INIT),
  countsActivations: false,
  activation: false,
  example: { layer: '{ op: layer_scale }', takes: 'map', gives: 'map' },
  keepsBlockPath: false,
  describe: () => 'layer_scale',
};
