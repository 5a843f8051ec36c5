import { stateless, type InsertedOpDef } from './define.js';

export interface InputAttrs {
  /** [height, width, channels]. */
  shape: number[];
}

/** The model's input (the file's `input:`), nodes[0] of every graph. */
export const input: InsertedOpDef<InputAttrs> = {
  description: 'The network input, [height, width, channels].',
  plan: null,
  shape: (a) => a.shape,
  ...stateless,
  activation: false,
  example: { stage: '{ block: basic, channels: 4, blocks: 1, stride: 1 }' },
  keepsBlockPath: false,
  describe: () => 'input',
};
