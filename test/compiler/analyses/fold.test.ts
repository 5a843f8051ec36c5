/**
 * The conv + batch-norm fold plan (src/compiler/analyses/fold.ts), the one both folding targets
 * read: TF.js's `skipgraph fold` (with relu fusion into plain convs) and `export --target onnx
 * --fold` (batch norms only). A node is absorbed only when it is the sole user of what it folds
 * into, and never when that value is the graph's output.
 */
import { describe, expect, it } from 'vitest';
import { planFolding } from '../../../src/compiler/analyses/fold.js';
import type { CompiledGraph } from '../../../src/compiler/index.js';
import { compileClean as compile } from './compile.js';
import { planFolding as tfjsPlan } from '../../../src/targets/tfjs/fold.js';
import { requireClassifier } from '../../../src/compiler/index.js';

const NET = compile(`
name: t
input: { height: 8, width: 8, channels: 4 }
classes: 2
stem:
  - { op: conv, filters: 8, kernel: 3 }
  - { op: bn }
  - { op: relu }
  - { op: conv, filters: 8, kernel: 3, groups: 2 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: preact_basic, channels: 8, blocks: 1 }
  - { block: basic, channels: 16, blocks: 1, stride: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`);

describe('the fold plan', () => {
  it('without relu fusion (ONNX): every conv whose sole user is a batch norm, nothing else', () => {
    const plan = planFolding(NET);
    expect(plan.convs.every((c) => c.bn !== undefined && c.activation === undefined)).toBe(true);
    expect(plan.convs.map((c) => c.conv)).toEqual(['conv1', 'conv2', 'layer1.0.conv1', 'layer2.0.conv1', 'layer2.0.conv2', 'layer2.0.downsample.0']);
    // The pre-activation block: its first batch norm follows a relu, its last conv feeds the add.
    expect(plan.absorbedInto.has('layer1.0.bn1')).toBe(false);
    expect(plan.convs.some((c) => c.conv === 'layer1.0.conv2')).toBe(false);
    expect(plan.absorbedInto.get('bn1')).toBe('conv1');
  });

  it("with TF.js's fusion: the relu after a plain conv's batch norm is fused, the grouped conv's is not", () => {
    const plan = tfjsPlan(NET);
    const byConv = new Map(plan.convs.map((c) => [c.conv, c]));
    expect(byConv.get('conv1')).toEqual({ conv: 'conv1', bn: 'bn1', activation: 'relu' });
    expect(byConv.get('conv2')?.activation).toBeUndefined();
    expect(plan.absorbedInto.get('relu')).toBe('conv1');
    // The batch norms are the same as the plan without fusion.
    expect(plan.convs.map((c) => [c.conv, c.bn])).toEqual(planFolding(NET).convs.map((c) => [c.conv, c.bn]));
  });

  it('a conv whose output has a second user, or is the graph output, keeps its batch norm', () => {
    const conv2 = NET.nodes.find((n) => n.id === 'conv2')!;
    const shared: CompiledGraph = { ...requireClassifier(NET, 'this test'), nodes: [...NET.nodes, { ...conv2, id: 'probe', op: 'conv', inputs: ['conv2'] } as typeof conv2] };
    expect(planFolding(shared).convs.map((c) => c.conv)).not.toContain('conv2');
    expect(planFolding(shared).convs.map((c) => c.conv)).toContain('conv1');
    const cut: CompiledGraph = { ...requireClassifier(NET, 'this test'), nodes: NET.nodes.slice(0, 2), output: 'conv1' };
    expect(planFolding(cut).convs).toEqual([]);
    const bnOut: CompiledGraph = { ...requireClassifier(NET, 'this test'), nodes: NET.nodes.slice(0, 3), output: 'bn1' };
    expect(tfjsPlan(bnOut).convs).toEqual([{ conv: 'conv1', bn: 'bn1' }]);
  });
});
