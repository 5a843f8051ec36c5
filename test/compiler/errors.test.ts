/**
 * Every error in one run (issue 18): schema errors, unknown names and the semantic checks of every
 * stage that can still be planned are reported together; what truly depends on a broken part is
 * named in one line. `skipgraph check` runs the same checks as `compile`.
 */
import { describe, expect, it } from 'vitest';
import { compileSource, formatSkipped, type CompileResult } from '../../src/compiler/files.js';
import { runCli } from '../helpers/cli.js';
import { at } from '../helpers/yaml.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** code @ line:col of every error, in order. */
const found = (r: CompileResult) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.loc.line}:${d.loc.col}`);

/** Five independent mistakes, one in each part of the file. */
const FIVE = `name: five
input: { height: 64, width: 64, channels: 3 }
classes: 10
stem:
  - { op: conv, filters: 16, kernel: 3, stride: 2, dilation: 2 }
  - { op: bn, epsilom: 1e-5 }
  - { op: relu }
stages:
  - { block: basic, channels: 16, blocks: 1 }
  - { block: basci, channels: 32, blocks: 1, stride: 2 }
  - { block: basic, channels: 64, blocks: 1, stride: 2, groups: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $clases }
`;

/** The seven: two schema errors, an unknown block, stride with dilation, groups on a basic block, an unknown op, $clases. */
const SEVEN = `name: seven
input: { height: 64, width: 64, channels: 3 }
classes: 10
stem:
  - { op: conv, filters: 16, kernel: 3, strides: 2 }
  - { op: batchnorm }
  - { op: relu }
stages:
  - { block: basic, channels: 16, blocks: "two" }
  - { block: basci, channels: 32, blocks: 1, stride: 2 }
  - { block: mine, channels: 32, blocks: 2, stride: 2 }
  - { block: basic, channels: 64, blocks: 1, groups: 2 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $clases }
blocks:
  mine:
    layers:
      - { op: conv, filters: $channels, kernel: 3, stride: $stride, dilation: 2 }
      - { op: bn }
`;

describe('every error in one run', () => {
  it('a file with five independent mistakes reports all five, at their places', () => {
    const r = compileSource(FIVE, { file: 'five.yaml' });
    expect(r.graph).toBeUndefined();
    const l = (needle: string, shift = 0) => `${at(FIVE, needle).line}:${at(FIVE, needle).col + shift}`;
    expect(found(r)).toEqual([
      `invalid-value@${l('{ op: conv')}`, // stride 2 with dilation 2 (the stem conv)
      `unknown-key@${l('epsilom')}`,
      `unknown-block@${l('basci')}`,
      `invalid-value@${l('groups: 2', 8)}`, // groups on a basic block
      `expr-unknown-param@${l('$clases')}`,
    ]);
    expect(r.diagnostics.find((d) => d.code === 'invalid-value')!.message).toMatch(/conv1: a conv cannot combine stride 2x2 with dilation 2x2/);
    expect(r.diagnostics.find((d) => d.code === 'unknown-key')!.hint).toBe('Did you mean "epsilon"?');
    expect(r.diagnostics.find((d) => d.code === 'expr-unknown-param')!.hint).toBe('Did you mean "$classes"?');
  });

  it("the issue's seven mistakes: all seven in one run, and one line for what had to wait", () => {
    const r = compileSource(SEVEN, { file: 'seven.yaml' });
    const l = (needle: string, shift = 0) => `${at(SEVEN, needle).line}:${at(SEVEN, needle).col + shift}`;
    expect(found(r)).toEqual([
      `unknown-key@${l('strides')}`,
      `unknown-op@${l('batchnorm')}`,
      `wrong-type@${l('"two"')}`,
      `unknown-block@${l('basci')}`,
      `invalid-value@${l('groups: 2', 8)}`,
      `expr-unknown-param@${l('$clases')}`,
      `invalid-value@${l('{ op: conv, filters: $channels')}`, // stride 2 with dilation 2 in the user block
    ]);
    expect(r.diagnostics.find((d) => d.code === 'unknown-op')!.hint).toMatch(/^Did you mean "bn"\?/);
    // Shapes after the broken stem cannot be checked: said once, with what waits.
    expect(formatSkipped(r.skipped)).toBe(
      "6 more checks skipped until these are fixed: the shapes of layer1; the shapes of layer2; the shapes of layer3; the shapes of layer4; the head's shapes; the resource limits.",
    );
  });

  it('a stage with an error does not hide the next stage\'s, nor the head\'s; the shapes before it are still checked', () => {
    const text = `name: chain
input: { height: 32, width: 32, channels: 3 }
classes: 10
shortcut: identity
stem:
  - { op: conv, filters: 16, kernel: 3 }
stages:
  - { block: basic, channels: 32, blocks: 1 }
  - { block: basic, channels: 32, blocks: 1, groups: 4 }
  - { block: bottleneck, channels: 8, blocks: 1, width_per_group: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes // 0 }
`;
    const r = compileSource(text, { file: 'chain.yaml' });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['shortcut-mismatch', 'invalid-value', 'out-of-range', 'expr-divide-by-zero']);
    expect(formatSkipped(r.skipped)).toBe("4 more checks skipped until these are fixed: the shapes of layer2; the shapes of layer3; the head's shapes; the resource limits.");
  });

  it('$in after a broken stage is not misreported (its checks wait), other expressions are still checked', () => {
    const text = `name: wait
input: { height: 32, width: 32, channels: 3 }
classes: 10
stem:
  - { op: conv, filters: 16, kernel: 3 }
stages:
  - { block: basic, channels: 16, blocks: 1, groups: 2 }
  - { block: mine, channels: 16, blocks: 1 }
head:
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
blocks:
  mine:
    layers:
      - { op: conv, filters: $in // 0, kernel: 3 }
      - { op: conv, filters: $channels // 0, kernel: 3 }
`;
    const r = compileSource(text, { file: 'wait.yaml' });
    expect(found(r)).toEqual([`invalid-value@${at(text, 'groups: 2').line}:${at(text, 'groups: 2').col + 8}`, `expr-divide-by-zero@${at(text, '$channels // 0').line}:${at(text, '$channels // 0').col}`]);
  });

  it('where nothing after the schema can be trusted (the stage list itself), one line says so', () => {
    const r = compileSource('name: x\ninput: { height: 8, width: 8, channels: 3 }\nclasses: 2\nstem: []\nstages: 3\nhead: []\n', { file: 'x.yaml' });
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(formatSkipped(r.skipped)).toMatch(/^1 more check skipped until these are fixed: the checks after the schema \(names, blocks, shapes, limits\): "stages" must be fixed first\.$/);
  });

  it('a valid file skips nothing and keeps its graph', () => {
    const r = compileSource(FIVE.replace(', dilation: 2', '').replace(', epsilom: 1e-5', '').replace('basci', 'basic').replace(', groups: 2', '').replace('$clases', '$classes'));
    expect(r.diagnostics).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.graph).toBeDefined();
  });
});

describe('op names from other libraries get a did-you-mean with the real name', () => {
  it.each([
    ['batchnorm', 'bn'],
    ['bn2d', 'bn'],
    ['BatchNorm2d', 'bn'],
    ['avgpool2d', 'avgpool'],
    ['linear', 'dense'],
  ])('%s -> %s', (alias, real) => {
    const text = `name: a\ninput: { height: 8, width: 8, channels: 3 }\nclasses: 2\nstem:\n  - { op: ${alias} }\nstages:\n  - { block: basic, channels: 3, blocks: 1 }\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n`;
    const r = compileSource(text, { file: 'a.yaml' });
    const d = r.diagnostics.find((x) => x.code === 'unknown-op')!;
    expect(d.loc).toMatchObject({ line: 5, col: 11 });
    expect(d.hint).toMatch(new RegExp(`^Did you mean "${real}"\\?`));
  });
});

describe('skipgraph check runs the semantic checks too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-check-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const base = (stages: string, stem = '  - { op: conv, filters: 16, kernel: 3 }') =>
    `name: c\ninput: { height: 32, width: 32, channels: 3 }\nclasses: 10\nshortcut: identity\nstem:\n${stem}\nstages:\n${stages}\nhead:\n  - { op: global_avg_pool }\n  - { op: dense, units: $classes }\n`;

  it('an identity-shortcut mismatch: exit 1 with the error, as compile', async () => {
    const p = write('mismatch.yaml', base('  - { block: basic, channels: 32, blocks: 1 }'));
    const r = await runCli('check', p);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mismatch\.yaml:8:5: error\[shortcut-mismatch\]/);
    expect(r.out).toBe('');
  });

  it('stride with dilation: exit 1 at the conv', async () => {
    const p = write('dilated.yaml', base('  - { block: basic, channels: 16, blocks: 1 }', '  - { op: conv, filters: 16, kernel: 3, stride: 2, dilation: 2 }'));
    const r = await runCli('check', p);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/dilated\.yaml:6:5: error\[invalid-value\]: conv1: a conv cannot combine stride 2x2 with dilation 2x2/);
  });

  it('the seven mistakes: every one, then the line of skipped checks', async () => {
    const r = await runCli('check', write('seven.yaml', SEVEN));
    expect(r.code).toBe(1);
    expect(r.err.match(/error\[/g)).toHaveLength(7);
    expect(r.err).toMatch(/\n7 errors\.\n6 more checks skipped until these are fixed: /);
  });

  it('a good file: ok with its counts', async () => {
    const r = await runCli('check', write('good.yaml', base('  - { block: basic, channels: 16, blocks: 1 }')));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/good\.yaml: ok \(c, 1 stages, \d+ nodes, [\d,]+ trainable params\)/);
  });
});
