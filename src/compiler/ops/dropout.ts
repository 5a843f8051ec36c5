import { stateless, type WrittenOpDef } from './define.js';

export interface DropoutAttrs {
  rate: number;
}

export const dropout: WrittenOpDef<DropoutAttrs> = {
  description: 'Dropout (training only).',
  plan(args) {
    // A literal, a block parameter or an expression ($drop, $drop / 2), as every number in a block.
    const rate = args.numbers('rate');
    return rate && { rate: rate.length ? rate[0] : 0.5 };
  },
  shape: (_, [x]) => x,
  ...stateless,
  activation: false,
  example: { layer: '{ op: dropout, rate: 0.2 }', takes: 'flat', gives: 'flat' },
  keepsBlockPath: true,
  describe: (a) => `dropout ${a.rate}`,
};
