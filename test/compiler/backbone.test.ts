/**
 * Backbones (issue 24): `features:` names the maps a model returns (timm's features_only), in the
 * file's order; the head becomes optional. Through the public API, tiny inline YAML, message and
 * location asserted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/files.js';
import { compileSource, formatJson, formatTable, requireClassifier, type CompileResult } from '../../src/compiler/index.js';
import { UserError } from '../../src/errors/index.js';
import { at } from '../helpers/yaml.js';

/** A CIFAR-sized ResNet with three stages and the given tail (features, head, ...). */
const net = (tail: string, top = 'classes: 10\n') => `name: tiny
input: { height: 32, width: 32, channels: 3 }
${top}stem:
  - { op: conv, filters: 8, kernel: 3, stride: 2 }
  - { op: bn }
  - { op: relu }
stages:
  - { block: basic, channels: 8, blocks: 2 }
  - { block: basic, channels: 16, blocks: 1, stride: 2 }
  - { block: basic, channels: 32, blocks: 1, stride: 2 }
${tail}`;

const HEAD = 'head:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n';

const errors = (r: CompileResult) => r.diagnostics.filter((d) => d.severity === 'error');

/** The one error of a compile, with where it points. */
function oneError(yaml: string) {
  const r = compileSource(yaml, { file: 'bb.yaml' });
  expect(r.graph).toBeUndefined();
  const e = errors(r);
  expect(e.map((d) => d.code)).toHaveLength(1);
  return e[0];
}

describe('features: the maps a backbone returns', () => {
  it('names stages (their last block) and stem nodes, in the order written, with channels, reduction and shape', () => {
    const r = compileSource(net('features: [layer2, relu, layer1]\n'), { file: 'bb.yaml' });
    expect(errors(r)).toEqual([]);
    const g = r.graph!;
    expect(g.kind).toBe('backbone');
    if (g.kind !== 'backbone') return;
    expect(g.features.map((f) => [f.name, f.node, f.channels, f.reduction, f.shape])).toEqual([
      ['layer2', 'layer2.0.relu2', 16, 4, [8, 8, 16]],
      ['relu', 'relu', 8, 2, [16, 16, 8]],
      ['layer1', 'layer1.1.relu2', 8, 2, [16, 16, 8]],
    ]);
    // The loc is the item as written.
    const text = net('features: [layer2, relu, layer1]\n');
    expect(g.features.map((f) => [f.loc.line, f.loc.col])).toEqual([at(text, 'layer2, relu'), at(text, 'relu, layer1'), at(text, 'layer1]')].map((p) => [p.line, p.col]));
  });

  it('keeps only the nodes a feature needs: the stages after the last one are not in the graph, nor in the counts', () => {
    const full = compileSource(net('features: [layer1, layer2, layer3]\n'), { file: 'bb.yaml' }).graph!;
    const cut = compileSource(net('features: [layer1, layer2]\n'), { file: 'bb.yaml' }).graph!;
    expect(full.nodes.some((n) => n.stage === 'layer3')).toBe(true);
    expect(cut.nodes.some((n) => n.stage === 'layer3')).toBe(false);
    expect(cut.stages.map((s) => s.name)).toEqual(['layer1', 'layer2']);
    const layer3 = full.nodes.filter((n) => n.stage === 'layer3');
    expect(cut.totals.trainableParams).toBe(full.totals.trainableParams - layer3.reduce((s, n) => s + n.params.trainable, 0));
    expect(cut.totals.macs).toBe(full.totals.macs - layer3.reduce((s, n) => s + n.macs, 0));
  });

  it('a backbone needs no classes; $classes in it is then an unknown parameter, not a silent 0', () => {
    expect(compileSource(net('features: [layer3]\n', ''), { file: 'bb.yaml' }).graph?.kind).toBe('backbone');
    const yaml = net('features: [layer3]\nblocks:\n  mine:\n    layers:\n      - { op: conv, filters: $classes, kernel: 1 }\n', '').replace('block: basic, channels: 32', 'block: mine, channels: 32');
    const e = oneError(yaml);
    expect(e.code).toBe('expr-unknown-param');
    expect(e.message).toContain('classes');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(yaml, '$classes')));
  });

  it('compile prints a feature table after the nodes; JSON holds kind and features', () => {
    const g = compileSource(net('features: [layer1, layer3]\n'), { file: 'bb.yaml' }).graph!;
    const table = formatTable(g);
    expect(table).toContain('tiny: input 32x32x3, backbone, 2 feature maps');
    expect(table).toMatch(/Returns 2 feature maps, in this order:\n\s+feature\s+node\s+channels\s+reduction\s+shape\n\s+layer1\s+layer1\.1\.relu2\s+8\s+2\s+16x16x8\n\s+layer3\s+layer3\.0\.relu2\s+32\s+8\s+4x4x32/);
    const depth1 = formatTable(g, { depth: 1 });
    expect(depth1).toMatch(/total\s+2 maps/);
    expect(depth1).toContain('Returns 2 feature maps');
    const json = JSON.parse(formatJson(g));
    expect(json.kind).toBe('backbone');
    expect(json.output).toBeUndefined();
    expect(json.features.map((f: { name: string; channels: number; reduction: number; shape: number[] }) => [f.name, f.channels, f.reduction, f.shape])).toEqual([
      ['layer1', 8, 2, [16, 16, 8]],
      ['layer3', 32, 8, [4, 4, 32]],
    ]);
    // A classifier's JSON keeps its output and classes (and says its kind).
    const c = JSON.parse(formatJson(compileSource(net(HEAD), { file: 'c.yaml' }).graph!));
    expect([c.kind, c.output.node, c.classes]).toEqual(['classifier', 'fc', 10]);
  });

  it('what needs logits refuses a backbone with what to do (requireClassifier)', () => {
    const g = compileSource(net('features: [layer1, layer3]\n'), { file: 'bb.yaml' }).graph!;
    expect(() => requireClassifier(g, 'train')).toThrow(UserError);
    expect(() => requireClassifier(g, 'train')).toThrow(/bb\.yaml is a backbone \(features: layer1, layer3\).*so train cannot use it\. Compile a classifier/);
    const c = compileSource(net(HEAD), { file: 'c.yaml' }).graph!;
    expect(requireClassifier(c, 'train').classes).toBe(10);
  });
});

describe('features through extends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-backbone-extends-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('head: none drops an inherited head; features: null turns an inherited backbone back into a classifier', () => {
    write('base.yaml', net(HEAD));
    const bb = compileFile(write('bb.yaml', 'extends: base.yaml\nhead: none\nfeatures: [layer2]\n'));
    expect(errors(bb)).toEqual([]);
    expect(bb.graph?.kind).toBe('backbone');
    expect(bb.graph!.nodes.some((n) => n.id === 'fc' || n.stage === 'layer3')).toBe(false);
    const back = compileFile(write('back.yaml', `extends: bb.yaml\nfeatures: null\n${HEAD}`));
    expect(errors(back)).toEqual([]);
    expect(back.graph?.kind).toBe('classifier');
    // Only one of the two lines is a refusal, at the line that is left.
    const half = compileFile(write('half.yaml', 'extends: bb.yaml\nfeatures: null\n'));
    expect(errors(half).map((d) => [d.code, d.loc.file.endsWith('bb.yaml'), d.loc.line])).toEqual([['head-and-features', true, 2]]);
  });
});

describe('features: refusals, each at its item', () => {
  it('an unknown name: at the item, hint with a close name and the stages', () => {
    const yaml = net('features: [layer1, layr2]\n');
    const e = oneError(yaml);
    expect(e.code).toBe('unknown-feature');
    expect(e.message).toBe('features: "layr2" is neither a stage nor a node of this network.');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(yaml, 'layr2')));
    expect(e.hint).toMatch(/^Did you mean "layer2"\? Stages: layer1, layer2, layer3;/);
  });

  it('a name twice, or two names of one map: at the second', () => {
    const twice = net('features: [layer1, layer2, layer1]\n');
    const e = oneError(twice);
    expect(e.code).toBe('duplicate-feature');
    expect(e.message).toBe('"layer1" is listed twice in features.');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(twice, 'layer1', 2)));
    const same = net('features: [layer2, layer2.0.relu2]\n');
    const s = oneError(same);
    expect(s.code).toBe('duplicate-feature');
    expect(s.message).toBe('features: "layer2.0.relu2" is the same map as "layer2" (node layer2.0.relu2).');
    expect([s.loc.line, s.loc.col]).toEqual(Object.values(at(same, 'layer2.0.relu2')));
  });

  it('a flat tensor is not a map', () => {
    const yaml = net('features: [layer1, layer3]\nblocks:\n  pool:\n    layers:\n      - { op: global_avg_pool }\n    post: none\n').replace('{ block: basic, channels: 32, blocks: 1, stride: 2 }', '{ block: pool, channels: 16, blocks: 1, shortcut: none }');
    const e = oneError(yaml);
    expect(e.code).toBe('feature-not-a-map');
    expect(e.message).toBe('features: "layer3" is a flat [16] tensor, not a [height, width, channels] map.');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(yaml, 'layer3]')));
  });

  it('a head beside features is refused at features, never silently dropped', () => {
    const yaml = net(`features: [layer3]\n${HEAD}`);
    const e = oneError(yaml);
    expect(e.code).toBe('head-and-features');
    expect(e.message).toBe('A backbone (a file with "features") returns its feature maps and has no head, but this file has one.');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(yaml, 'features')));
    expect(e.hint).toContain('head: none');
    // `head: none` makes it a backbone.
    expect(compileSource(net('features: [layer3]\nhead: none\n'), { file: 'bb.yaml' }).graph?.kind).toBe('backbone');
  });

  it('head: none without features, and neither head nor features, are refused', () => {
    const none = net('head: none\n');
    const e = oneError(none);
    expect(e.code).toBe('head-and-features');
    expect(e.message).toContain('"head: none" makes a backbone, but the file has no "features"');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(none, 'none')));
    const neither = oneError(net(''));
    expect(neither.code).toBe('missing-field');
    expect(neither.message).toBe('Missing required field "head".');
    expect(neither.hint).toContain('For a backbone, write `features: [...]` instead.');
    const noClasses = oneError(net(HEAD.replace('$classes', '10'), ''));
    expect(noClasses.code).toBe('missing-field');
    expect(noClasses.message).toBe('Missing required field "classes".');
  });

  it('with an error before them, the features wait, and the line that lists skipped checks says so', () => {
    const r = compileSource(net('features: [layer1, nothing]\n').replace('channels: 16, blocks: 1', 'channels: 16, blocks: 1, groups: 3'), { file: 'bb.yaml' });
    expect(errors(r).map((d) => d.message)).toEqual([expect.stringContaining('groups')]);
    expect(r.skipped).toContain('the features');
    expect(r.skipped).not.toContain("the head's shapes");
  });

  it('head: anything else than a list or none is a schema error at the value', () => {
    const yaml = net('features: [layer3]\nhead: nothing\n');
    const e = oneError(yaml);
    expect(e.code).toBe('invalid-value');
    expect(e.message).toContain('"head" must be "none"');
    expect([e.loc.line, e.loc.col]).toEqual(Object.values(at(yaml, 'nothing')));
  });
});
