import { size, stateless, type NoAttrs, type WrittenOpDef } from './define.js';

export const flatten: WrittenOpDef<NoAttrs> = {
  description: '[H, W, C] -> [H * W * C] (channels-last order).',
  plan: () => ({}),
  shape: (_, [x]) => [size(x)],
  ...stateless,
  activation: false,
  example: { layer: '{ op: flatten }', takes: 'map', gives: 'flat' },
  keepsBlockPath: false,
  describe: () => 'flatten',
};
