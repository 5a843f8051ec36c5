import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource } from '../../src/compiler/files.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A file whose stages and blocks are given (the lines are counted in the assertions below). */
const file = (stages: string, blocks: string) =>
  `name: t
input: { height: 32, width: 32, channels: 16 }
classes: 10
stem: []
stages:
${stages}
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
blocks:
${blocks}`;

const conv = (r: ReturnType<typeof compileSource>, id: string) => r.graph!.nodes.find((n) => n.id === id) as { attrs: { filters: number; padding: number[] } } | undefined;

describe('the scoping of a `use` macro (issue 24, silent defect 1)', () => {
  // The macro declares exp: 16; its caller's stage sets exp: 64. Before the fix the conv silently
  // got 16 filters.
  const inner = `  inner:
    params: { exp: 16 }
    layers:
      - { op: conv, filters: $exp, kernel: 1 }
      - { op: bn }
      - { op: conv, filters: $channels, kernel: 1 }
`;
  it("a macro's parameter takes its caller's value of the same name (parameters flow); its default only where the caller has none", () => {
    const r = compileSource(
      file(
        '  - { block: outer, channels: 16, blocks: 1, params: { exp: 64 } }\n  - { block: lone, channels: 16, blocks: 1 }',
        `${inner}  outer:
    params: { exp: 32 }
    layers:
      - { op: use, block: inner }
  lone:
    layers:
      - { op: use, block: inner }
`,
      ),
    );
    expect(r.diagnostics).toEqual([]);
    // Before the fix: 16, the macro's default, with no warning.
    expect(conv(r, 'layer1.0.conv1')!.attrs.filters).toBe(64);
    expect(conv(r, 'layer2.0.conv1')!.attrs.filters).toBe(16);
  });

  it('the caller passes its value on with an expression, evaluated in the caller\'s scope', () => {
    const r = compileSource(
      file(
        '  - { block: outer, channels: 16, blocks: 1, params: { exp: 64 } }',
        `${inner}  outer:
    params: { exp: 32 }
    layers:
      - { op: use, block: inner, params: { exp: $exp } }
      - { op: use, block: inner, params: { exp: "$exp // 2 + $channels" } }
`,
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(conv(r, 'layer1.0.conv1')!.attrs.filters).toBe(64);
    expect(conv(r, 'layer1.0.conv3')!.attrs.filters).toBe(48);
  });

  it('an unknown parameter in a `use` expression is located in it', () => {
    const r = compileSource(file('  - { block: outer, channels: 16, blocks: 1 }', `${inner}  outer:
    layers:
      - { op: use, block: inner, params: { exp: $expo } }
`), { file: 'b.yaml' });
    expect(r.diagnostics[0]).toMatchObject({ code: 'expr-unknown-param', loc: { line: 19, col: 49 } });
  });

  it('a block parameter may not hide a built-in one ($channels, $stride, ...)', () => {
    const r = compileSource(file('  - { block: b, channels: 16, blocks: 1 }', `  b:
    params: { stride: 2 }
    layers:
      - { op: conv, filters: $channels, kernel: 3, stride: $stride }
`), { file: 'c.yaml' });
    expect(r.diagnostics[0]).toMatchObject({ code: 'param-shadowed', loc: { line: 12, col: 15 } });
    expect(r.diagnostics[0].message).toContain('$stride');
  });
});

describe('default conv padding (issue 24, silent defect 2)', () => {
  const stem = (layer: string) => `name: t
input: { height: 224, width: 224, channels: 3 }
classes: 10
stem:
  - ${layer}
stages:
  - { block: basic, channels: 96, blocks: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
`;
  it('an even kernel without padding is refused at the layer, not padded by 1', () => {
    const r = compileSource(stem('{ op: conv, filters: 96, kernel: 4, stride: 4 }'), { file: 'p.yaml' });
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ code: 'invalid-value', loc: { file: 'p.yaml', line: 5, col: 5 } });
    expect(r.diagnostics[0].message).toContain('even');
    expect(r.diagnostics[0].hint).toContain('padding: 0');
  });
  it('explicit padding 0 gives the patchify stem PyTorch computes; odd kernels keep (k - 1) // 2', () => {
    const r = compileSource(stem('{ op: conv, name: patch, filters: 96, kernel: 4, stride: 4, padding: 0 }'));
    expect(r.diagnostics).toEqual([]);
    expect(conv(r, 'patch')!.attrs.padding).toEqual([0, 0, 0, 0]);
    const odd = compileSource(stem('{ op: conv, name: c, filters: 96, kernel: [5, 3], dilation: 2 }'));
    expect(conv(odd, 'c')!.attrs.padding).toEqual([4, 4, 2, 2]);
  });
});

/** A network with the given top-level lines, stages and blocks (line 1 is `name`). */
const net = (top: string, stages: string, blocks: string) =>
  `name: t
input: { height: 32, width: 32, channels: 8 }
classes: 10
${top}stem: []
stages:
${stages}
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
blocks:
  ir:
    params: { t: 2 }
    layers:
      - { op: conv, name: conv.0, filters: "$in * $t", kernel: 1 }
      - { op: bn, name: conv.1 }
      - { op: conv, name: conv.2, filters: $channels, kernel: 3, stride: $stride }
      - { op: bn, name: conv.3 }
    post: none
${blocks}`;

const ids = (r: ReturnType<typeof compileSource>) => r.graph!.nodes.map((n) => n.id);

describe('block kinds and stage features (issue 24)', () => {
  it("identity_or_none adds the input only where the shapes match (torchvision's use_res_connect); none never adds", () => {
    const r = compileSource(net('shortcut: identity_or_none\n', '  - { block: ir, channels: 16, blocks: 2, stride: 2 }\n  - { block: ir, channels: 16, blocks: 1, shortcut: none }', ''));
    expect(r.diagnostics).toEqual([]);
    const all = ids(r);
    // Block 0 changes stride and channels: no shortcut, no add. Block 1 keeps its shape: the identity.
    expect(all.filter((id) => id.startsWith('layer1.0.'))).toEqual(['layer1.0.conv.0', 'layer1.0.conv.1', 'layer1.0.conv.2', 'layer1.0.conv.3']);
    expect(r.graph!.nodes.find((n) => n.id === 'layer1.1.add')!.inputs).toEqual(['layer1.1.conv.3', 'layer1.0.conv.3']);
    expect(all.some((id) => id.startsWith('layer2.0.add'))).toBe(false);
  });

  it('flat numbering counts on across stages of one name; none names a one-block stage alone; first_index sets the start', () => {
    const r = compileSource(
      net(
        'shortcut: identity_or_none\nstage_defaults: { numbering: flat }\n',
        '  - { block: ir, name: features, first_index: 1, channels: 8, blocks: 1 }\n  - { block: ir, name: features, channels: 16, blocks: 2, stride: 2 }\n  - { block: down, name: features.9, numbering: none, channels: 24, blocks: 1, shortcut: none }',
        '  down:\n    layers:\n      - { op: conv, name: down, filters: $channels, kernel: 2, stride: 2, padding: 0 }\n    post: none\n',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(ids(r).filter((id) => id.endsWith('conv.0') || id.startsWith('features.9'))).toEqual(['features.1.conv.0', 'features.2.conv.0', 'features.3.conv.0', 'features.9.down']);
    // One stage in the summary, as torchvision's one nn.Sequential; a block is known by its number.
    expect(r.graph!.stages.map((s) => [s.name, s.blocks, s.shape.join('x')])).toEqual([
      ['features', 3, '16x16x16'],
      ['features.9', 1, '8x8x24'],
    ]);
    expect(r.graph!.nodes.find((n) => n.id === 'features.3.conv.0')!.block).toBe(3);
  });

  it('numbering: none on a stage of several blocks is an error at its blocks', () => {
    const r = compileSource(net('', '  - { block: ir, channels: 8, blocks: 2, numbering: none }', ''), { file: 'n.yaml' });
    expect(r.diagnostics[0]).toMatchObject({ code: 'invalid-value', loc: { file: 'n.yaml', line: 6, col: 39 } });
    expect(r.diagnostics[0].hint).toContain('blocks: 1');
  });

  it("se: a squeeze width by expression (torchvision's _make_divisible(c // 4, 8)) and an inner activation", () => {
    const r = compileSource(
      net('', '  - { block: s, channels: 40, blocks: 1 }', '  s:\n    layers:\n      - { op: conv, filters: $channels, kernel: 1 }\n      - { op: se, name: se, squeeze: "make_divisible($channels // 4, 8)", activation: silu }\n'),
    );
    expect(r.diagnostics).toEqual([]);
    const se = r.graph!.nodes.filter((n) => n.id.startsWith('layer1.0.se.'));
    expect(se.map((n) => [n.id, n.op])).toEqual([
      ['layer1.0.se.pool', 'global_avg_pool'],
      ['layer1.0.se.fc1', 'conv'],
      ['layer1.0.se.silu', 'silu'],
      ['layer1.0.se.fc2', 'conv'],
      ['layer1.0.se.gate', 'sigmoid'],
      ['layer1.0.se.scale', 'mul'],
    ]);
    // 40 // 4 = 10 -> 16 (_make_divisible(10, 8): the nearest multiple, 8, is under 90% of 10).
    expect((se[1].attrs as { filters: number }).filters).toBe(16);
    // A stage's se takes the same activation.
    const st = compileSource(net('', '  - { block: basic, channels: 32, blocks: 1, se: { reduction: 4, activation: silu } }', ''));
    expect(st.graph!.nodes.filter((n) => n.id.startsWith('layer1.0.se.')).map((n) => [n.id, n.op, n.op === 'conv' ? (n.attrs as { filters: number }).filters : null])).toEqual([
      ['layer1.0.se.pool', 'global_avg_pool', null],
      ['layer1.0.se.fc1', 'conv', 8],
      ['layer1.0.se.silu', 'silu', null],
      ['layer1.0.se.fc2', 'conv', 32],
      ['layer1.0.se.gate', 'sigmoid', null],
      ['layer1.0.se.scale', 'mul', null],
    ]);
  });

  it("compound scaling: channels -> make_divisible(c * width, 8), blocks -> ceil(n * depth); $width_mult everywhere; torchvision's EfficientNet drop-path schedule", () => {
    const r = compileSource(
      net(
        'params: { stem_c: 32 }\nscaling: { width: 1.1, depth: 1.2 }\ndrop_path_rate: 0.2\ndrop_path_schedule: efficientnet\nshortcut: identity_or_none\n',
        '  - { block: ir, channels: 16, blocks: 2 }\n  - { block: ir, channels: 24, blocks: 3, stride: 2 }',
        '',
      ).replace('stem: []', 'stem:\n  - { op: conv, name: c0, filters: "make_divisible($stem_c * $width_mult, 8)", kernel: 3 }'),
    );
    expect(r.diagnostics).toEqual([]);
    const g = r.graph!;
    // 16 * 1.1 = 17.6 -> 16, ceil(2 * 1.2) = 3 blocks; 24 * 1.1 = 26.4 -> 24, ceil(3 * 1.2) = 4; stem 35.2 -> 32.
    expect(g.stages.map((s) => [s.blocks, s.shape[2]])).toEqual([[3, 16], [4, 24]]);
    expect((g.nodes.find((n) => n.id === 'c0')!.attrs as { filters: number }).filters).toBe(32);
    // Rate 0.2 * j / 7 for block j of all 7, only where a residual exists (layer1.0 maps 32 -> 16 channels; layer2.0 strides).
    const rates = Object.fromEntries(g.nodes.filter((n) => n.op === 'drop_path').map((n) => [n.id, (n.attrs as { rate: number }).rate]));
    expect(Object.keys(rates)).toEqual(['layer1.1.drop_path', 'layer1.2.drop_path', 'layer2.1.drop_path', 'layer2.2.drop_path', 'layer2.3.drop_path']);
    expect(rates['layer2.1.drop_path']).toBeCloseTo((0.2 * 4) / 7, 12);
  });

  it('a network parameter with a built-in name, and a wrong make_divisible, are errors at their place', () => {
    const r = compileSource(net('params: { channels: 3 }\n', '  - { block: ir, channels: 8, blocks: 1 }', ''), { file: 'g.yaml' });
    expect(r.diagnostics[0]).toMatchObject({ code: 'param-shadowed', loc: { file: 'g.yaml', line: 4, col: 11 } });
    const e = compileSource(net('', '  - { block: s, channels: 8, blocks: 1 }', '  s:\n    layers:\n      - { op: conv, filters: "make_divisible($channels)", kernel: 1 }\n'), { file: 'e.yaml' });
    expect(e.diagnostics[0]).toMatchObject({ code: 'expr-syntax', loc: { file: 'e.yaml', line: 21, col: 31 } });
    expect(e.diagnostics[0].message).toContain('make_divisible() takes 2 arguments, not 1');
  });
});

describe('docs/dsl.md: the snippets of the new sections compile to what they say', () => {
  const md = readFileSync(join(ROOT, 'docs/dsl.md'), 'utf8');
  const fence = (after: string) => md.slice(md.indexOf(after)).match(/```yaml\n([\s\S]*?)```/)![1];

  it('"Parameters and scope": the macro gets 64 (flowed in from the stage) and 128 (passed as "$exp * 2")', () => {
    const snippet = fence('### Parameters and scope');
    const r = compileSource(`name: t\ninput: { height: 8, width: 8, channels: 16 }\nclasses: 10\nstem: []\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n${snippet}`);
    expect(r.diagnostics).toEqual([]);
    expect(r.graph!.nodes.filter((n) => n.op === 'conv' && !n.inserted).map((n) => (n.attrs as { filters: number }).filters)).toEqual([64, 128]);
  });

  it('"Compound scaling": the B5 snippet is the shipped efficientnet_b5.yaml', () => {
    const r = compileSource(fence('## Compound scaling'), { file: join(ROOT, 'architectures', 'doc_b5.yaml') });
    expect(r.diagnostics).toEqual([]);
    const shipped = compileFile(join(ROOT, 'architectures', 'efficientnet_b5.yaml')).graph!;
    expect(r.graph!.nodes.map((n) => [n.id, n.attrs, n.shape])).toEqual(shipped.nodes.map((n) => [n.id, n.attrs, n.shape]));
    expect(r.graph!.totals.trainableParams).toBe(30_389_784);
  });
});

describe('layers between stages (issue 24: ConvNeXt-style downsampling, no residual around it)', () => {
  const y = (stem: string) => `name: t
input: { height: 32, width: 32, channels: 8 }
classes: 10
stem:
${stem}
stages:
  - { block: basic, name: features.1, channels: 8, blocks: 1 }
  - { block: down, name: features.2, numbering: none, shortcut: none, channels: 16, blocks: 1 }
  - { block: basic, name: features.3, channels: 16, blocks: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
blocks:
  down:
    layers:
      - { op: bn, name: "0" }
      - { op: conv, name: "1", filters: $channels, kernel: 2, stride: 2, padding: 0, bias: true }
    post: none
`;
  it("a one-block stage with numbering: none and shortcut: none is its layers, named as torchvision's (features.2.0, features.2.1)", () => {
    const r = compileSource(y('  - { op: conv, name: features.0.0, filters: 8, kernel: 3 }'));
    expect(r.diagnostics).toEqual([]);
    const nodes = r.graph!.nodes.filter((n) => n.id.startsWith('features.2'));
    expect(nodes.map((n) => [n.id, n.op, n.inputs])).toEqual([
      ['features.2.0', 'bn', ['features.1.0.relu2']],
      ['features.2.1', 'conv', ['features.2.0']],
    ]);
    expect(r.graph!.nodes.find((n) => n.id === 'features.3.0.conv1')!.inputs).toEqual(['features.2.1']);
  });
  it('in the stem a name is the whole node id: one that starts with a digit is refused at the layer', () => {
    const r = compileSource(y('  - { op: conv, name: "0", filters: 8, kernel: 3 }'), { file: 's.yaml' });
    expect(r.diagnostics[0]).toMatchObject({ code: 'invalid-value', loc: { file: 's.yaml', line: 5, col: 5 } });
    expect(r.diagnostics[0].message).toContain('starts with a letter');
  });
});
