import { stateless, type InsertedOpDef } from './define.js';

/** Stochastic depth (Huang et al. 2016, timm's DropPath): drop a block's residual branch per sample. */
export interface DropPathAttrs {
  /** Probability that a sample's branch is dropped (training only; identity at inference). */
  rate: number;
}

/** On a block's main path, before the add: x * keep_mask / (1 - rate) per sample, in training. */
export const drop_path: InsertedOpDef<DropPathAttrs> = {
  description: "Stochastic depth on a block's main path: drops the branch per sample in training.",
  plan: null,
  shape: (_, [x]) => x,
  ...stateless,
  activation: false,
  example: { stage: '{ block: basic, channels: 4, blocks: 3, stride: 1 }', top: ['drop_path_rate: 0.3'] },
  keepsBlockPath: true,
  describe: (a) => `drop_path ${Number(a.rate.toPrecision(4))}`,
};
