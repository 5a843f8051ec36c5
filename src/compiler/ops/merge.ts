import { fmt, stateless, type InsertedOpDef, type NoAttrs } from './define.js';

/** Two inputs of equal shape: [main, shortcut]. */
export const add: InsertedOpDef<NoAttrs> = {
  description: "The residual add: a block's main path plus its shortcut.",
  plan: null,
  shape(_, [a, b]) {
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
      return { code: 'shape-mismatch', message: `the residual add joins ${fmt(a)} (main path) and ${fmt(b)} (shortcut).` };
    }
    return a;
  },
  ...stateless,
  activation: false,
  // The residual add of every block.
  example: { stage: '{ block: basic, channels: 4, blocks: 2, stride: 1 }' },
  keepsBlockPath: false,
  describe: () => 'add',
};

/** Two inputs: [x, gate]; gate [1, 1, C] broadcast over H and W (squeeze-excitation). */
export const mul: InsertedOpDef<NoAttrs> = {
  description: 'x times a [1, 1, C] gate (the scale of squeeze-and-excitation).',
  plan: null,
  shape(_, [a, g]) {
    if (g.length !== 3 || g[0] !== 1 || g[1] !== 1 || g[2] !== a[a.length - 1]) {
      return { code: 'shape-mismatch', message: `the gate ${fmt(g)} does not match the ${fmt(a)} map it scales.` };
    }
    return a;
  },
  ...stateless,
  activation: false,
  // The scale of a squeeze-and-excitation unit.
  example: { stage: '{ block: bottleneck, channels: 4, blocks: 1, stride: 2, se: { reduction: 4 } }' },
  keepsBlockPath: true,
  describe: () => 'mul',
};
