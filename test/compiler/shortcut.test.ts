import { describe, expect, it } from 'vitest';
import { compileSource, type CompiledGraph } from '../../src/compiler/files.js';
import { arch, at } from '../helpers/yaml.js';

/** Two stages: 16 -> 16 (stride 1, shapes match) and 16 -> 32 (stride 2: a mismatch). */
const twoStages = (rule: string, block = 'basic') =>
  arch({ shortcut: rule, stages: `  - { block: ${block}, channels: 16, blocks: 2 }\n  - { block: ${block}, channels: 32, blocks: 2, stride: 2 }` });

function compile(yaml: string): CompiledGraph {
  const r = compileSource(yaml, { file: 'rule.yaml' });
  expect(r.diagnostics).toEqual([]);
  return r.graph!;
}

const inserted = (g: CompiledGraph) => g.nodes.filter((n) => n.inserted).map((n) => `${n.id}:${n.op}`);

/** Every add joins two equal shapes (the invariant each rule must keep). */
function addsAreEqual(g: CompiledGraph) {
  for (const n of g.nodes.filter((x) => x.op === 'add')) {
    const [a, b] = n.inputs.map((i) => g.nodes.find((x) => x.id === i)!.shape);
    expect(a).toEqual(b);
  }
}

describe('shortcut rules', () => {
  it('projection: identity where shapes match, 1x1 conv (stride) + BN only in the block that changes them', () => {
    const g = compile(twoStages('projection'));
    expect(inserted(g)).toEqual(['layer2.0.downsample.0:conv', 'layer2.0.downsample.1:bn']);
    const conv = g.nodes.find((n) => n.id === 'layer2.0.downsample.0')!;
    expect(conv.attrs).toMatchObject({ kernel: [1, 1], stride: [2, 2], filters: 32, bias: false });
    expect(conv.inserted!.reason).toBe('stride 2, channels 16 -> 32');
    expect(conv.inserted!.blockLoc.line).toBe(at(twoStages('projection'), '{ block: basic, channels: 32').line);
    // The add of the first block takes the block input directly.
    expect(g.nodes.find((n) => n.id === 'layer1.0.add')!.inputs).toEqual(['layer1.0.bn2', 'relu']);
    addsAreEqual(g);
  });

  it('projection also fires on a channel change alone (stride 1), as for the first bottleneck stage', () => {
    const g = compile(arch({ stages: '  - { block: bottleneck, channels: 16, blocks: 2 }' }));
    expect(inserted(g)).toEqual(['layer1.0.downsample.0:conv', 'layer1.0.downsample.1:bn']);
    expect(g.nodes.find((n) => n.id === 'layer1.0.downsample.0')!.inserted!.reason).toBe('channels 16 -> 64');
  });

  it('conv: projects in every block, even where shapes match', () => {
    const g = compile(twoStages('conv'));
    expect(inserted(g)).toHaveLength(8);
    expect(g.nodes.find((n) => n.id === 'layer1.1.downsample.0')!.inserted!.reason).toBe('the conv rule always projects');
    addsAreEqual(g);
  });

  it('zeropad: parameter-free subsample + channel padding (CIFAR option A)', () => {
    const g = compile(twoStages('zeropad'));
    expect(inserted(g)).toEqual(['layer2.0.downsample.0:subsample', 'layer2.0.downsample.1:channel_pad']);
    expect(g.nodes.find((n) => n.id === 'layer2.0.downsample.1')!.attrs).toEqual({ before: 8, after: 8 });
    expect(g.nodes.filter((n) => n.inserted).every((n) => n.params.trainable === 0 && n.macs === 0)).toBe(true);
    addsAreEqual(g);
  });

  it('avgdown: 2x2 avg pool (ceil mode) then 1x1 conv + BN, timm names', () => {
    const g = compile(twoStages('avgdown'));
    expect(inserted(g)).toEqual(['layer2.0.downsample.0:avgpool', 'layer2.0.downsample.1:conv', 'layer2.0.downsample.2:bn']);
    expect(g.nodes.find((n) => n.id === 'layer2.0.downsample.0')!.attrs).toMatchObject({ kernel: [2, 2], stride: [2, 2], ceil: true });
    expect(g.nodes.find((n) => n.id === 'layer2.0.downsample.1')!.attrs).toMatchObject({ stride: [1, 1] });
    addsAreEqual(g);
  });

  it('avgdown keeps the sizes right on odd maps (ceil mode, as timm)', () => {
    const g = compile(arch({ input: '{ height: 7, width: 7, channels: 3 }', shortcut: 'avgdown' }));
    expect(g.nodes.find((n) => n.id === 'layer2.0.downsample.0')!.shape).toEqual([4, 4, 16]);
    addsAreEqual(g);
  });

  it('identity: no insertion where shapes match; a mismatch is an error naming both shapes and the block', () => {
    const ok = compile(arch({ shortcut: 'identity', stages: '  - { block: basic, channels: 16, blocks: 3 }' }));
    expect(inserted(ok)).toEqual([]);
    const yaml = twoStages('identity');
    const r = compileSource(yaml, { file: 'rule.yaml' });
    expect(r.graph).toBeUndefined();
    const d = r.diagnostics[0];
    expect(d.code).toBe('shortcut-mismatch');
    expect(d.message).toContain('Block layer2.0');
    expect(d.message).toContain('16x16x32');
    expect(d.message).toContain('32x32x16');
    expect(d.loc).toMatchObject(at(yaml, '{ block: basic, channels: 32'));
    expect(d.related![0].loc).toMatchObject(at(yaml, 'identity'));
    expect(d.hint).toMatch(/projection/);
  });

  it('a stage can override the global rule', () => {
    const yaml = arch({ shortcut: 'identity', stages: '  - { block: basic, channels: 16, blocks: 1 }\n  - { block: basic, channels: 32, blocks: 1, stride: 2, shortcut: zeropad }' });
    expect(inserted(compile(yaml))).toEqual(['layer2.0.downsample.0:subsample', 'layer2.0.downsample.1:channel_pad']);
  });

  it('pre-activation blocks project from the pre-activated input, without a BN', () => {
    const g = compile(twoStages('projection', 'preact_basic'));
    expect(inserted(g)).toEqual(['layer2.0.downsample.0:conv']);
    expect(g.nodes.find((n) => n.id === 'layer2.0.downsample.0')!.inputs).toEqual(['layer2.0.relu1']);
    // ... while the identity shortcut of block 1 takes the raw block input.
    expect(g.nodes.find((n) => n.id === 'layer2.1.add')!.inputs).toEqual(['layer2.1.conv2', 'layer2.0.add']);
  });

  it('only block 0 of a stage takes the stride; later blocks run at stride 1 with in == out', () => {
    const g = compile(arch({ stages: '  - { block: bottleneck, channels: 16, blocks: 3, stride: 2 }' }));
    const strides = g.nodes.flatMap((n) => (n.op === 'conv' && n.id.endsWith('.conv2') ? [n.attrs.stride[0]] : []));
    expect(strides).toEqual([2, 1, 1]);
    expect(inserted(g).filter((s) => s.startsWith('layer1.1') || s.startsWith('layer1.2'))).toEqual([]);
  });

  it('a conv that both strides and dilates is refused at its stage line (no such TF.js convolution)', () => {
    // Block 0's strided conv takes first_dilation (default: the previous stage's, 1), so only an
    // explicit first_dilation makes it combine the two.
    const yaml = arch({ stages: '  - { block: basic, channels: 16, blocks: 1, stride: 2, dilation: 2, first_dilation: 2 }' });
    const r = compileSource(yaml, { file: 'rule.yaml' });
    expect(r.diagnostics[0]).toMatchObject({ code: 'invalid-value', loc: at(yaml, '{ block: basic, channels: 16, blocks: 1, stride: 2') });
    expect(r.diagnostics[0].message).toMatch(/cannot combine stride 2x2 with dilation 2x2/);
    expect(compileSource(yaml.replace('stride: 2, ', ''), { file: 'rule.yaml' }).graph).toBeDefined();
  });

  it('user-defined blocks get the same rule from their shapes', () => {
    const yaml = arch({
      stages: '  - { block: mine, channels: 16, blocks: 1 }\n  - { block: mine, channels: 32, blocks: 2, stride: 2 }',
      extra: 'blocks:\n  mine:\n    layers:\n      - { op: conv, filters: $channels, kernel: 3, stride: $stride }\n      - { op: bn }\n',
    });
    const g = compile(yaml);
    expect(inserted(g)).toEqual(['layer2.0.downsample.0:conv', 'layer2.0.downsample.1:bn']);
    expect(g.nodes.find((n) => n.id === 'layer2.0.relu_out')).toBeDefined();
  });
});
