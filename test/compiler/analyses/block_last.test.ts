/**
 * The batch norms that end each residual block's main path (zero-init residual starts their
 * weight at 0): the built-in blocks' marked BN, the last BN of a block written by hand (through
 * activations, dropout and the SE multiply), none for a block that ends in a conv (pre-activation).
 * The torch emitter writes exactly this list; the TF.js builder zeroes it (src/targets/tfjs/build.ts).
 */
import { describe, expect, it } from 'vitest';
import { blockLastBatchNorms } from '../../../src/compiler/analyses/block_last.js';
import { compileSource, type CompiledGraph } from '../../../src/compiler/files.js';
import { emitTorch } from '../../../src/targets/torch/index.js';

const net = (stages: string, blocks = '') => `
name: t
input: { height: 8, width: 8, channels: 3 }
classes: 2
${blocks}
stem:
  - { op: conv, filters: 8, kernel: 3 }
  - { op: bn }
  - { op: relu }
stages:
${stages}
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;

function compile(text: string): CompiledGraph {
  const r = compileSource(text, { file: 't.yaml' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

/** ZERO_INIT_RESIDUAL of the emitted module, read back from its text. */
const torchList = (g: CompiledGraph) => [...emitTorch(g, { version: 'test' }).split('ZERO_INIT_RESIDUAL = [')[1].split(']')[0].matchAll(/"([^"]*)"/g)].map((m) => m[1]);

describe('compiler analyses: block-ending batch norms', () => {
  it('built-in blocks: the BN the compiler marks, in graph order', () => {
    const g = compile(net('  - { block: basic, channels: 8, blocks: 2, stride: 1 }\n  - { block: bottleneck, channels: 4, blocks: 1, stride: 2 }'));
    expect(blockLastBatchNorms(g)).toEqual(['layer1.0.bn2', 'layer1.1.bn2', 'layer2.0.bn3']);
    expect(torchList(g)).toEqual(blockLastBatchNorms(g));
  });

  it('blocks written by hand: the last BN before the add, through activations, dropout and the SE multiply', () => {
    const blocks = `blocks:
  mine:
    layers:
      - { op: conv, filters: $channels, kernel: 3, stride: $stride }
      - { op: bn, name: first }
      - { op: relu }
      - { op: conv, filters: $channels, kernel: 3 }
      - { op: bn, name: last }
      - { op: se, reduction: 2 }
      - { op: dropout, rate: 0.1 }
  pre_act:
    pre:
      - { op: bn }
      - { op: relu }
    layers:
      - { op: conv, filters: $channels, kernel: 3, stride: $stride }
    post: none`;
    const g = compile(net('  - { block: mine, channels: 8, blocks: 2, stride: 1 }\n  - { block: pre_act, channels: 8, blocks: 1, stride: 1 }', blocks));
    expect(g.nodes.some((n) => n.op === 'bn' && n.attrs.blockLast === true)).toBe(false);
    expect(blockLastBatchNorms(g)).toEqual(['layer1.0.last', 'layer1.1.last']);
    expect(torchList(g)).toEqual(blockLastBatchNorms(g));
  });

  it('pre-activation blocks (ending in a conv) have none', () => {
    const g = compile(net('  - { block: preact_basic, channels: 8, blocks: 2, stride: 1 }'));
    expect(blockLastBatchNorms(g)).toEqual([]);
    expect(torchList(g)).toEqual([]);
  });
});
