import { stateless, type InsertedOpDef } from './define.js';

/** Zero channels added before/after the existing ones. */
export interface ChannelPadAttrs {
  before: number;
  after: number;
}

export const channel_pad: InsertedOpDef<ChannelPadAttrs> = {
  description: 'Zero channels added before and after the existing ones (the zeropad shortcut rule).',
  plan: null,
  shape: (a, [x]) => [...x.slice(0, -1), x[x.length - 1] + a.before + a.after],
  ...stateless,
  activation: false,
  example: { stage: '{ block: basic, channels: 7, blocks: 1, stride: 1, shortcut: zeropad }' },
  keepsBlockPath: false,
  describe: (a) => `channel_pad +${a.before + a.after}`,
};
