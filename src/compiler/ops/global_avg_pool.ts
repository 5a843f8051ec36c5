import { needMap, stateless, type WrittenOpDef } from './define.js';

/** Mean over H and W; [C] or (keepdims) [1, 1, C]. */
export interface GlobalAvgPoolAttrs {
  keepdims: boolean;
}

export const global_avg_pool: WrittenOpDef<GlobalAvgPoolAttrs> = {
  description: 'Mean over height and width: [H, W, C] -> [C].',
  // Written layers flatten (torchvision's avgpool + flatten); the SE unit keeps [1, 1, C].
  plan: () => ({ keepdims: false }),
  shape(a, [x]) {
    const bad = needMap('global_avg_pool', x);
    if (bad) return bad;
    return a.keepdims ? [1, 1, x[2]] : [x[2]];
  },
  ...stateless,
  activation: false,
  example: { layer: '{ op: global_avg_pool }', takes: 'map', gives: 'flat' },
  keepsBlockPath: false,
  describe: () => 'global_avg_pool',
};
