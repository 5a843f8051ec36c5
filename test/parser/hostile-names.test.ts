/**
 * Issue 19, items 3 and 9 (the YAML side): names TF.js cannot hold, YAML strings used as object
 * keys, %YAML 1.1, merge keys, control characters in messages, `batch: 0` through the API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/files.js';
import { architectureSchema, escapeControl, formatDiagnostics } from '../../src/parser/index.js';
import { arch, at } from '../helpers/yaml.js';

const codes = (yaml: string) => compileSource(yaml, { file: 'x.yaml' }).diagnostics.map((d) => d.code);
const first = (yaml: string, code: string) => compileSource(yaml, { file: 'x.yaml' }).diagnostics.find((d) => d.code === code);

/** TF.js's own rule for tensor names, read from the installed tfjs-layers (not copied here). */
const tfjsNameRule = (() => {
  const src = readFileSync(join(new URL('../../', import.meta.url).pathname, 'node_modules/@tensorflow/tfjs-layers/dist/common.js'), 'utf8');
  const m = /const tensorNameRegex = new RegExp\(\/(.+)\/\);/.exec(src);
  if (!m) throw new Error('tfjs-layers no longer defines tensorNameRegex in dist/common.js');
  return new RegExp(m[1]);
})();

const RESERVED = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];

describe('names TF.js cannot hold are refused at their line', () => {
  it.each(RESERVED)('a stem layer named %s', (name) => {
    const yaml = arch({ stem: `  - { op: conv, filters: 16, kernel: 3, name: ${name} }\n  - { op: bn }\n  - { op: relu }` });
    const d = first(yaml, 'reserved-name');
    expect(d, codes(yaml).join()).toBeDefined();
    expect({ line: d!.loc.line, col: d!.loc.col }).toEqual(at(yaml, `${name} }`));
    expect(d!.message).toBe(`"${name}" cannot be a node or stage name: JavaScript objects (and so TF.js's layer tables) already hold it.`);
    expect(d!.hint).toBe(`Rename it, e.g. "${name}_1".`);
  });

  it('a stage, a head layer and a user block layer named after Object.prototype members', () => {
    const yaml = arch({
      stages: '  - { block: mine, channels: 16, blocks: 1, name: valueOf }',
      head: '  - { op: global_avg_pool, name: hasOwnProperty }\n  - { op: dense, units: $classes }',
      extra: 'blocks:\n  mine:\n    layers:\n      - { op: conv, filters: 16, kernel: 3, name: isPrototypeOf }\n',
    });
    const r = compileSource(yaml, { file: 'x.yaml' });
    expect(r.graph).toBeUndefined();
    const found = r.diagnostics.filter((d) => d.code === 'reserved-name').map((d) => [d.loc.line, d.loc.col]);
    expect(found).toEqual([at(yaml, 'hasOwnProperty'), at(yaml, 'valueOf'), at(yaml, 'isPrototypeOf')].map((p) => [p.line, p.col]).sort((a, b) => a[0] - b[0]));
  });

  it('a name starting with "_" (TF.js: "Not a valid tensor name") is refused by the schema, with a hint', () => {
    const yaml = arch({ stem: '  - { op: conv, filters: 16, kernel: 3, name: _x }\n  - { op: bn }\n  - { op: relu }' });
    const d = first(yaml, 'invalid-value')!;
    expect(d.message).toBe('"_x" is not a valid node name (stem[0].name).');
    expect(d.hint).toMatch(/starts with a letter.*TF\.js refuses tensor names that start with "_"/);
    expect({ line: d.loc.line, col: d.loc.col }).toEqual(at(yaml, '_x'));
  });

  it('every name the schema accepts is a valid TF.js tensor name, also under a block prefix', () => {
    const pattern = new RegExp(architectureSchema.$defs.name.pattern);
    fc.assert(
      fc.property(fc.stringMatching(pattern), (name) => {
        expect(tfjsNameRule.test(name)).toBe(true);
        expect(tfjsNameRule.test(`layer1.0.${name}`)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(pattern.test('_x')).toBe(false);
    expect(tfjsNameRule.test('_x')).toBe(false);
  });

  it('the network name and plain layer names are not affected', () => {
    expect(compileSource(arch().replace('name: tiny', 'name: constructor')).graph?.name).toBe('constructor');
    expect(compileSource(arch({ stem: '  - { op: conv, filters: 16, kernel: 3, name: stem_conv.a }\n  - { op: bn }\n  - { op: relu }' })).graph).toBeDefined();
  });
});

describe('YAML strings are never looked up on a plain object', () => {
  const user = (params: string) =>
    arch({ stages: `  - { block: mine, channels: 16, blocks: 1, params: { ${params} } }`, extra: 'blocks:\n  mine:\n    params: { k: 3 }\n    layers:\n      - { op: conv, filters: $channels, kernel: $k }\n' });

  it.each(['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])('an undeclared stage param named %s is refused', (name) => {
    const yaml = user(`${name}: 1`);
    const d = first(yaml, 'expr-unknown-param');
    expect(d, codes(yaml).join()).toBeDefined();
    expect(d!.message).toBe(`The block "mine" has no parameter "${name}".`);
    expect(d!.hint).toBe('Its parameters: k.');
  });

  it('an undeclared param named toString given by `use` is refused', () => {
    const yaml = arch({
      stages: '  - { block: outer, channels: 16, blocks: 1 }',
      extra: 'blocks:\n  inner:\n    params: { k: 3 }\n    layers:\n      - { op: conv, filters: $channels, kernel: $k }\n  outer:\n    layers:\n      - { op: use, block: inner, params: { valueOf: 2 } }\n',
    });
    const d = first(yaml, 'expr-unknown-param')!;
    expect(d.message).toBe('The block "inner" has no parameter "valueOf".');
    expect({ line: d.loc.line, col: d.loc.col }).toEqual(at(yaml, 'inner, params'));
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('an op named %s is an unknown op with a plain hint', (op) => {
    const yaml = arch({ stem: `  - { op: ${op}, filters: 16 }` });
    const d = first(yaml, 'unknown-op')!;
    expect(d.message).toBe(`Unknown op "${op}" in stem[0].`);
    expect(d.hint).not.toMatch(/function|native code|undefined|\[object/);
  });

  it('declared params still work', () => {
    expect(compileSource(user('k: 1')).graph).toBeDefined();
  });
});

describe('YAML 1.1 features are refused with a message that says so', () => {
  it('%YAML 1.1 is refused at its version (it would read `no` as false and `012` as 10)', () => {
    const yaml = `%YAML 1.1\n---\n${arch()}`;
    const d = first(yaml, 'yaml-version')!;
    expect(d.message).toBe('"%YAML 1.1" is not supported; architecture files are YAML 1.2.');
    expect([d.loc.line, d.loc.col]).toEqual([1, 7]);
    expect(d.hint).toMatch(/`no` as false and `012` as 10/);
    expect(codes(`%YAML 1.3\n---\n${arch()}`)).toEqual(['yaml-version']);
    // 1.2, the default, is fine.
    expect(compileSource(`%YAML 1.2\n---\n${arch()}`).graph).toBeDefined();
  });

  it('a merge key gets its own message, at the key', () => {
    const yaml = arch({ stages: '  - &s { block: basic, channels: 16, blocks: 1 }\n  - { <<: *s, channels: 32, stride: 2 }' });
    const d = first(yaml, 'merge-key')!;
    expect(d.message).toBe('Merge keys ("<<:") are not supported: YAML 1.2 has none, and the keys would not be merged.');
    expect({ line: d.loc.line, col: d.loc.col }).toEqual(at(yaml, '<<'));
    expect(d.hint).toMatch(/extends/);
    // A quoted "<<" is just a key (the schema then says it is unknown).
    expect(codes(arch().replace('classes: 10', 'classes: 10\n"<<": 1'))).toEqual(['unknown-key']);
  });
});

describe('control characters never reach the terminal raw', () => {
  it('escapeControl makes C0, C1, DEL and bidi overrides visible, and leaves the rest', () => {
    expect(escapeControl('a\u001b]0;TITLE\u0007b')).toBe('a\\x1b]0;TITLE\\x07b');
    expect(escapeControl('\u0000\u0008\r\u007f\u009b\u202e\u2066')).toBe('\\x00\\x08\\x0d\\x7f\\x9b\\u202e\\u2066');
    expect(escapeControl('ümlaut → ok\nnext')).toBe('ümlaut → ok\nnext');
  });

  it('an escape sequence in a quoted key or name is printed escaped, in message, source line and hint', () => {
    const yaml = arch().replace('classes: 10', 'classes: 10\n"\\e]0;TITLE\\a\\x9b31m": 1');
    const r = compileSource(yaml, { file: 'x.yaml' });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['unknown-key']);
    const text = formatDiagnostics(r.diagnostics, { sources: r.sources, color: true });
    expect(text).toContain('Unknown key "\\x1b]0;TITLE\\x07\\x9b31m".');
    // The only ESC bytes are skipgraph's colours (ESC [ digits m).
    expect(text.replace(/\u001b\[\d+m/g, '')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const name = compileSource(arch({ stem: '  - { op: conv, filters: 16, kernel: 3, name: "a\\u009b2J" }\n  - { op: bn }\n  - { op: relu }' }), { file: 'x.yaml' });
    expect(formatDiagnostics(name.diagnostics)).toContain('"a\\x9b2J" is not a valid node name');
  });

  it('a file name with control characters is escaped too', () => {
    const r = compileSource('name: [', { file: 'evil\u001b[2J.yaml' });
    expect(formatDiagnostics(r.diagnostics)).toMatch(/^evil\\x1b\[2J\.yaml:1:/);
  });
});

describe('batch through the API', () => {
  it.each([0, -1, 1.5, Number.NaN])('batch: %s is refused, not a switched-off activation check', (batch) => {
    const r = compileSource(arch(), { batch });
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['out-of-range']);
    expect(r.diagnostics[0].message).toBe(`CompileOptions.batch must be a whole number >= 1, not ${String(batch)}.`);
    expect(r.diagnostics[0].loc).toMatchObject({ file: '<options>', line: 0 });
  });

  it('a valid batch still compiles and still checks memory', () => {
    expect(compileSource(arch(), { batch: 1 }).graph).toBeDefined();
    expect(compileSource(arch(), { batch: 1, limits: { maxActivationBytes: 1000 } }).diagnostics.map((d) => d.code)).toEqual(['limit-exceeded']);
  });
});
