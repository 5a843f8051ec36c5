import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource, type CompileOptions } from '../../src/compiler/files.js';
import { arch, at } from '../helpers/yaml.js';

/**
 * One fixture per diagnostic code: the YAML, the code, and where it must point. `at` names the
 * text the caret must be on (its first occurrence, or the n-th). Every code of the union in
 * src/parser/codes.ts must appear here (checked at the end).
 */
interface Fixture {
  code: string;
  yaml: string;
  at: string | [string, number] | { line: number; col: number };
  message?: RegExp;
  hint?: RegExp;
  opts?: CompileOptions;
}

const user = (layers: string, params = '') => `blocks:\n  mine:\n${params}    layers:\n${layers}`;

const fixtures: Fixture[] = [
  { code: 'empty-file', yaml: '# only a comment\n', at: { line: 1, col: 1 } },
  { code: 'invalid-character', yaml: 'name: a\u0000b\n', at: { line: 1, col: 8 }, message: /NUL/ },
  { code: 'yaml-syntax', yaml: 'name: tiny\ninput: { height: 32, width: 32\nclasses: 10\n', at: { line: 3, col: 1 } },
  { code: 'yaml-tab', yaml: 'name: tiny\ninput:\n\theight: 32\n', at: { line: 3, col: 1 } },
  { code: 'duplicate-key', yaml: arch().replace('classes: 10', 'classes: 10\nclasses: 12'), at: ['classes', 2], hint: /once per mapping/ },
  { code: 'custom-tag', yaml: arch().replace('classes: 10', 'classes: !!js/function "return 1"'), at: '!!js/function' },
  { code: 'alias-limit', yaml: 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n', at: ['*c', 8], message: /more than 10,000/ },
  { code: 'too-deep', yaml: `name: ${'['.repeat(100)}${']'.repeat(100)}\n`, at: { line: 1, col: 71 } },
  { code: 'forbidden-key', yaml: arch().replace('classes: 10', 'classes: 10\n__proto__: { polluted: true }'), at: '__proto__' },
  { code: 'multiple-documents', yaml: 'name: a\n---\nname: b\n', at: { line: 2, col: 1 } },
  { code: 'yaml-version', yaml: `%YAML 1.1\n---\n${arch()}`, at: '1.1', message: /"%YAML 1\.1" is not supported/, hint: /`no` as false/ },
  { code: 'merge-key', yaml: arch().replace('input: {', 'input: { <<: { channels: 3 },').replace(', channels: 3 }', ' }'), at: '<<', message: /Merge keys \("<<:"\) are not supported/ },
  { code: 'reserved-name', yaml: arch({ stem: '  - { op: conv, filters: 16, kernel: 3, name: toString }' }), at: 'toString', message: /"toString" cannot be a node or stage name/ },
  { code: 'not-a-mapping', yaml: '- name: tiny\n- classes: 10\n', at: { line: 1, col: 1 } },
  { code: 'unknown-key', yaml: arch({ stages: '  - { block: basic, chanels: 16, channels: 16, blocks: 1 }' }), at: 'chanels', hint: /Did you mean "channels"\?/ },
  { code: 'missing-field', yaml: arch({ stages: '  - { block: basic, blocks: 2 }' }), at: '{ block: basic, blocks: 2 }', message: /"channels"/ },
  { code: 'wrong-type', yaml: arch({ stages: '  - { block: basic, channels: sixteen, blocks: 1 }' }), at: 'sixteen', message: /must be an integer/ },
  { code: 'out-of-range', yaml: arch({ stages: '  - { block: basic, channels: 16, blocks: 0 }' }), at: '0 }', message: /"blocks" is 0; it must be >= 1/ },
  { code: 'out-of-range', yaml: arch({ stages: '  - { block: basic, channels: 16, blocks: 1, stride: 1.5 }' }), at: '1.5', message: /whole number/ },
  { code: 'out-of-range', yaml: arch({ stem: '  - { op: conv, filters: 16, kernel: 999 }' }), at: '999' },
  { code: 'invalid-value', yaml: arch({ shortcut: 'projektion' }), at: 'projektion', hint: /Did you mean "projection"\?/ },
  { code: 'unknown-op', yaml: arch({ stem: '  - { op: conv, filters: 16, kernel: 3 }\n  - { op: batchnorm }' }), at: 'batchnorm' },
  { code: 'unknown-block', yaml: arch({ stages: '  - { block: bottlenek, channels: 16, blocks: 1 }' }), at: 'bottlenek', message: /Unknown block "bottlenek"/, hint: /Did you mean "bottleneck"\?/ },
  { code: 'expr-syntax', yaml: arch({ stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: user('      - { op: conv, filters: "$channels * * 2", kernel: 3 }\n') }), at: '* 2"' },
  { code: 'expr-unknown-param', yaml: arch({ stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: user('      - { op: conv, filters: $chanels, kernel: 3 }\n') }), at: '$chanels', hint: /Did you mean "\$channels"\?/ },
  { code: 'expr-divide-by-zero', yaml: arch({ stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: user('      - { op: conv, filters: "$channels // ($stride - 1)", kernel: 3 }\n') }), at: '"$channels // (' },
  { code: 'expr-overflow', yaml: arch({ stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: user('      - { op: conv, filters: "$channels * 99999 * 99999", kernel: 3 }\n') }), at: '"$channels * 9' },
  { code: 'expr-not-integer', yaml: arch({ stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: user('      - { op: conv, filters: "$channels / 3", kernel: 3 }\n') }), at: '"$channels / 3"' },
  { code: 'param-shadowed', yaml: arch({ stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: 'blocks:\n  mine:\n    params: { stride: 2 }\n    layers:\n      - { op: conv, filters: $channels, kernel: 3 }\n' }), at: 'stride: 2' },
  { code: 'block-cycle', yaml: arch({ stages: '  - { block: a, channels: 16, blocks: 1 }', extra: 'blocks:\n  a:\n    layers:\n      - { op: use, block: b }\n  b:\n    layers:\n      - { op: use, block: a }\n' }), at: '{ op: use, block: a }' },
  { code: 'set-syntax', yaml: arch(), opts: { sets: ['stages'] }, at: { line: 1, col: 1 } },
  { code: 'set-path-unknown', yaml: arch(), opts: { sets: ['stages.5.blocks=2'] }, at: { line: 1, col: 8 }, message: /numbered from 0/ },
  { code: 'spatial-too-small', yaml: arch({ input: '{ height: 4, width: 4, channels: 3 }', stem: '  - { op: conv, filters: 16, kernel: 7, padding: 0 }' }), at: '{ op: conv, filters: 16, kernel: 7, padding: 0 }', message: /4x4 map to -2x-2/ },
  { code: 'groups-mismatch', yaml: arch({ stem: '  - { op: conv, filters: 16, kernel: 3, groups: 3 }' }), at: '{ op: conv, filters: 16, kernel: 3, groups: 3 }', message: /groups=3 must divide/ },
  { code: 'shortcut-mismatch', yaml: arch({ shortcut: 'identity' }), at: '{ block: basic, channels: 32', message: /16x16x32.*32x32x16/, hint: /projection/ },
  { code: 'shape-mismatch', yaml: arch({ shortcut: 'zeropad', stages: '  - { block: mine, channels: 16, blocks: 1 }', extra: user('      - { op: conv, filters: 8, kernel: 3 }\n') }), at: '{ block: mine', message: /can only add channels/ },
  { code: 'dense-not-flat', yaml: arch({ head: '  - { op: dense, units: $classes }' }), at: '{ op: dense', hint: /global_avg_pool/ },
  { code: 'limit-exceeded', yaml: arch(), opts: { limits: { maxParams: 1000 } }, at: { line: 1, col: 1 }, message: /Parameters: [\d,]+, over the limit of 1,000/, hint: /--max-params/ },
  // Backbones: `features:` instead of a head (more in test/compiler/backbone.test.ts).
  { code: 'head-and-features', yaml: arch({ extra: 'features: [layer1]' }), at: 'features', message: /has no head, but this file has one/, hint: /head: none/ },
  { code: 'duplicate-feature', yaml: arch().replace(/head:[\s\S]*$/, 'features: [layer1, layer1]\n'), at: ['layer1', 2], message: /listed twice/ },
  { code: 'unknown-feature', yaml: arch().replace(/head:[\s\S]*$/, 'features: [layer1, layer9]\n'), at: 'layer9', hint: /Stages: layer1, layer2/ },
  { code: 'feature-not-a-map', yaml: arch({ stages: '  - { block: basic, channels: 16, blocks: 1 }\n  - { block: pool, channels: 16, blocks: 1, shortcut: none }' }).replace(/head:[\s\S]*$/, 'features: [layer1, layer2]\nblocks:\n  pool:\n    layers:\n      - { op: global_avg_pool }\n    post: none\n'), at: 'layer2', message: /flat \[16\] tensor/ },
];

function locate(yaml: string, f: Fixture['at']) {
  if (typeof f === 'string') return at(yaml, f);
  if (Array.isArray(f)) return at(yaml, f[0], f[1]);
  return f;
}

describe('diagnostic codes: one fixture each, with code, line and column', () => {
  it.each(fixtures.map((f, i) => [`${f.code} #${i}`, f] as const))('%s', (_name, f) => {
    const r = compileSource(f.yaml, { file: 'fixture.yaml', ...f.opts });
    expect(r.graph).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === f.code);
    expect(d, `codes: ${r.diagnostics.map((x) => x.code + ' ' + x.message).join(' | ')}`).toBeDefined();
    expect({ line: d!.loc.line, col: d!.loc.col }).toEqual(locate(f.yaml, f.at));
    if (f.message) expect(d!.message).toMatch(f.message);
    if (f.hint) expect(d!.hint).toMatch(f.hint);
  });
});

describe('file-level codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-codes-'));
  const write = (name: string, text: string | Uint8Array) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('file-not-found', () => {
    const r = compileFile(join(dir, 'missing.yaml'));
    expect(r.diagnostics[0].code).toBe('file-not-found');
    expect(r.diagnostics[0].message).toContain('missing.yaml');
  });

  it('file-too-large: refused before parsing', () => {
    const r = compileFile(write('big.yaml', `name: x\n# ${'a'.repeat(2 << 20)}\n`));
    expect(r.diagnostics.map((d) => d.code)).toEqual(['file-too-large']);
  });

  it('invalid-encoding: points at the bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('name: tiny\nclasses: '), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const r = compileFile(write('latin.yaml', bytes));
    expect(r.diagnostics[0].code).toBe('invalid-encoding');
    expect([r.diagnostics[0].loc.line, r.diagnostics[0].loc.col]).toEqual([2, 10]);
  });

  it('extends-not-found, at the extends value', () => {
    const text = 'extends: nothere.yaml\nname: x\n';
    const r = compileFile(write('a.yaml', text));
    expect(r.diagnostics[0].code).toBe('extends-not-found');
    expect(r.diagnostics[0].loc).toMatchObject(at(text, 'nothere.yaml'));
  });

  it('extends-cycle names the chain', () => {
    write('c1.yaml', 'extends: c2.yaml\nname: c1\n');
    write('c2.yaml', 'extends: c1.yaml\nname: c2\n');
    const r = compileFile(join(dir, 'c1.yaml'));
    expect(r.diagnostics[0].code).toBe('extends-cycle');
    expect(r.diagnostics[0].message).toMatch(/c1\.yaml -> c2\.yaml -> c1\.yaml/);
    expect(r.diagnostics[0].loc.file).toMatch(/c2\.yaml$/);
    expect(r.diagnostics[0].loc.line).toBe(1);
  });

  it('extends-outside: absolute paths, .. out of the folder, and links out are refused', () => {
    const sub = mkdtempSync(join(dir, 'sub-'));
    write('outside.yaml', arch());
    for (const target of [join(dir, 'outside.yaml'), '../outside.yaml']) {
      const p = join(sub, 'x.yaml');
      writeFileSync(p, `extends: ${target}\nname: x\n`);
      const r = compileFile(p);
      expect(r.diagnostics.map((d) => d.code)).toEqual(['extends-outside']);
    }
    symlinkSync(join(dir, 'outside.yaml'), join(sub, 'link.yaml'));
    writeFileSync(join(sub, 'y.yaml'), 'extends: link.yaml\nname: y\n');
    expect(compileFile(join(sub, 'y.yaml')).diagnostics.map((d) => d.code)).toEqual(['extends-outside']);
    // ... unless the caller widens the root.
    writeFileSync(join(sub, 'z.yaml'), 'extends: ../outside.yaml\nname: z\n');
    expect(compileFile(join(sub, 'z.yaml'), { extendsRoot: dir }).graph?.name).toBe('z');
  });
});

describe('coverage of the code union', () => {
  it('every diagnostic code has a fixture (graph-cycle is unreachable from YAML and checked as an invariant)', () => {
    const src = readFileSync(new URL('../../src/parser/codes.ts', import.meta.url), 'utf8');
    const union = src.slice(src.indexOf('export type DiagnosticCode'), src.indexOf('export type Severity'));
    const declared = [...union.matchAll(/\| '([a-z-]+)'/g)].map((m) => m[1]);
    const body = readFileSync(new URL(import.meta.url), 'utf8');
    const covered = new Set([...fixtures.map((f) => f.code), ...[...body.matchAll(/toBe\('([a-z-]+)'\)|\['([a-z-]+)'\]/g)].map((m) => m[1] ?? m[2])]);
    const missing = declared.filter((c) => !covered.has(c) && c !== 'graph-cycle');
    expect(declared.length).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });
});
