import { describe, expect, it } from 'vitest';
import { compileFile, compileSource, type CompiledGraph } from '../../src/compiler/files.js';
import { arch } from '../helpers/yaml.js';

/**
 * Which conv gets which dilation. Params and MACs are the same whatever the wiring, so these
 * tests read the dilation of each conv; the parity suite (test/parity, resnet50_os8/os16)
 * compares the outputs with torchvision's.
 */
function compile(yaml: string): CompiledGraph {
  const r = compileSource(yaml, { file: 'dilation.yaml' });
  expect(r.diagnostics).toEqual([]);
  return r.graph!;
}

/** id -> dilation of every 3x3 conv. */
const dilations = (g: CompiledGraph) =>
  Object.fromEntries(g.nodes.filter((n) => n.op === 'conv' && (n.attrs as { kernel: number[] }).kernel[0] === 3).map((n) => [n.id, (n.attrs as { dilation: number[] }).dilation[0]]));

describe('dilation wiring', () => {
  it("resnet50_os8: block 0 of a dilated stage keeps the previous stage's dilation (torchvision's replace_stride_with_dilation=[False, True, True])", () => {
    const d = dilations(compileFile('architectures/resnet50_os8.yaml', { sets: ['input.height=64', 'input.width=64'] }).graph!);
    expect(d['layer2.0.conv2']).toBe(1);
    expect(d['layer3.0.conv2']).toBe(1);
    for (let b = 1; b < 6; b++) expect(d[`layer3.${b}.conv2`]).toBe(2);
    expect(d['layer4.0.conv2']).toBe(2);
    expect(d['layer4.1.conv2']).toBe(4);
    expect(d['layer4.2.conv2']).toBe(4);
  });

  it('resnet50_os16 keeps layer4 at 1/16 of the input, with dilation 1 then 2, and the same params as resnet50', () => {
    const g = compileFile('architectures/resnet50_os16.yaml').graph!;
    const plain = compileFile('architectures/resnet50.yaml').graph!;
    const d = dilations(g);
    expect([d['layer4.0.conv2'], d['layer4.1.conv2'], d['layer4.2.conv2']]).toEqual([1, 2, 2]);
    expect(g.nodes.find((n) => n.id === 'layer4.2.relu3')!.shape).toEqual([14, 14, 2048]);
    expect(g.totals.params).toBe(plain.totals.params);
  });

  it('basic blocks: the strided conv1 of block 0 takes first_dilation, conv2 the stage dilation (timm)', () => {
    const g = compile(arch({ stages: '  - { block: basic, channels: 16, blocks: 2 }\n  - { block: basic, channels: 32, blocks: 2, dilation: 2 }' }));
    const d = dilations(g);
    expect([d['layer2.0.conv1'], d['layer2.0.conv2'], d['layer2.1.conv1'], d['layer2.1.conv2']]).toEqual([1, 2, 2, 2]);
    const pad = g.nodes.find((n) => n.id === 'layer2.0.conv2')!.attrs as { padding: number[] };
    expect(pad.padding).toEqual([2, 2, 2, 2]);
  });

  it('first_dilation, written, overrides the default: every block alike', () => {
    const g = compile(arch({ stages: '  - { block: bottleneck, channels: 8, blocks: 2, dilation: 2, first_dilation: 2 }' }));
    expect(dilations(g)).toMatchObject({ 'layer1.0.conv2': 2, 'layer1.1.conv2': 2 });
  });

  it('a user block sees $first_dilation (block 0: the default first dilation) and $dilation', () => {
    const yaml = arch({
      stages: '  - { block: basic, channels: 16, blocks: 1, dilation: 2 }\n  - { block: pair, channels: 16, blocks: 2, dilation: 4 }',
      extra: [
        'blocks:',
        '  pair:',
        '    layers:',
        '      - { op: conv, name: a, filters: $channels, kernel: 3, dilation: $first_dilation }',
        '      - { op: bn }',
        '      - { op: relu }',
        '      - { op: conv, name: b, filters: $channels, kernel: 3, dilation: $dilation }',
        '      - { op: bn }',
      ].join('\n'),
    });
    const d = dilations(compile(yaml));
    expect([d['layer2.0.a'], d['layer2.0.b'], d['layer2.1.a'], d['layer2.1.b']]).toEqual([2, 4, 4, 4]);
  });

  it('a strided stage after a dilated one is refused at its line: its block 0 would combine stride and dilation', () => {
    const r = compileSource(arch({ stages: '  - { block: bottleneck, channels: 8, blocks: 1, dilation: 2 }\n  - { block: bottleneck, channels: 16, blocks: 1, stride: 2 }' }), { file: 'x.yaml' });
    const e = r.diagnostics.find((x) => x.severity === 'error');
    expect(e?.message).toMatch(/cannot combine stride 2x2 with dilation 2x2/);
    expect(e?.loc.line).toBe(11); // the second stage
  });
});
