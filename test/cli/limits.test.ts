/**
 * Resource limits (issue 5): maxBlocks, maxNodes, maxParams and maxActivationBytes (for a batch,
 * --batch) are checked on the compiled description, before the runtime exists; each error says
 * what was estimated and which flag raises the limit. Tested through the API and the real CLI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile, compileSource, DEFAULT_BATCH, DEFAULT_LIMITS } from '../../src/compiler/index.js';
import type { Diagnostic } from '../../src/parser/index.js';
import { ensureDist, repoRoot, runBin, STACK_FRAME } from './bin.js';

const arch = (f: string) => join(repoRoot, 'architectures', f);
const limitErrors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.code === 'limit-exceeded');

/** CIFAR ResNet with `n` basic blocks in its first stage. */
const cifar = (n: number) => readFileSync(arch('cifar_resnet20.yaml'), 'utf8').replace('{ block: basic, channels: 16, blocks: 3, stride: 1 }', `{ block: basic, channels: 16, blocks: ${n}, stride: 1 }`);

describe('limits through the API', () => {
  it('defaults: 20,000 blocks, 400,000 nodes, 1e9 params, 16 GiB of activations for a batch of 32', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxBlocks: 20_000, maxNodes: 400_000, maxParams: 1_000_000_000, maxActivationBytes: 16 * 2 ** 30 });
    expect(DEFAULT_BATCH).toBe(32);
  });

  it('every shipped architecture fits the defaults', () => {
    for (const f of readdirSync(join(repoRoot, 'architectures')).filter((f) => f.endsWith('.yaml'))) {
      const r = compileFile(arch(f));
      expect(limitErrors(r), f).toEqual([]);
      expect(r.graph, f).toBeDefined();
    }
  });

  it('maxBlocks is checked before expanding and names the count and the flag', () => {
    const r = compileFile(arch('resnet50.yaml'), { limits: { maxBlocks: 15 } });
    expect(limitErrors(r)).toHaveLength(1);
    expect(r.diagnostics[0].message).toBe('Blocks after expansion: 16, over the limit of 15.');
    expect(r.diagnostics[0].hint).toMatch(/--max-blocks/);
    expect(compileFile(arch('resnet50.yaml'), { limits: { maxBlocks: 16 } }).graph).toBeDefined();
  });

  it('maxNodes stops the graph while it is built', () => {
    const r = compileFile(arch('resnet50.yaml'), { limits: { maxNodes: 100 } });
    expect(limitErrors(r)).toHaveLength(1);
    expect(r.diagnostics[0].message).toMatch(/^Nodes in the graph: more than 100 \(the limit\), reached at layer/);
    expect(r.diagnostics[0].hint).toMatch(/--max-nodes/);
    const n = compileFile(arch('resnet50.yaml')).graph!.nodes.length;
    expect(compileFile(arch('resnet50.yaml'), { limits: { maxNodes: n } }).graph).toBeDefined();
    expect(compileFile(arch('resnet50.yaml'), { limits: { maxNodes: n - 1 } }).graph).toBeUndefined();
  });

  it('maxNodes also bounds user blocks that nest `use` (sized before expanding)', () => {
    const text = readFileSync(join(repoRoot, 'test/corpus/bad/limit-use-bomb.yaml'), 'utf8');
    const t0 = performance.now();
    const r = compileSource(text);
    expect(performance.now() - t0).toBeLessThan(5_000); // 16^6 layers if it expanded them
    expect(limitErrors(r)[0].message).toMatch(/The block "l0" expands to 16,777,216 layers .* over the limit of 400,000 nodes/);
    expect(limitErrors(r)[0].hint).toMatch(/--max-nodes/);
  });

  it('maxParams names the count and the flag', () => {
    const r = compileFile(arch('resnet50.yaml'), { limits: { maxParams: 25_000_000 } });
    expect(limitErrors(r)[0].message).toBe('Parameters: 25,610,152, over the limit of 25,000,000.');
    expect(limitErrors(r)[0].hint).toMatch(/--max-params/);
    expect(compileFile(arch('resnet50.yaml'), { limits: { maxParams: 25_610_152 } }).graph).toBeDefined();
  });

  it('maxActivationBytes: per-sample activations x batch, with both flags named', () => {
    const perSample = compileFile(arch('resnet50.yaml')).graph!.totals.activationBytes; // 143.28 MiB
    const r = compileFile(arch('resnet50.yaml'), { batch: 128 });
    expect(limitErrors(r)).toHaveLength(1);
    const d = limitErrors(r)[0];
    expect(d.message).toBe('Activation memory for a batch of 128: an estimated 17.91 GiB (143.28 MiB of float32 forward activations per sample x 128), over the limit of 16.00 GiB.');
    expect(d.hint).toMatch(/--max-activation-bytes/);
    expect(d.hint).toMatch(/--batch/);
    // Exactly at the limit passes; one byte less fails.
    expect(compileFile(arch('resnet50.yaml'), { batch: 128, limits: { maxActivationBytes: perSample * 128 } }).graph).toBeDefined();
    expect(compileFile(arch('resnet50.yaml'), { batch: 128, limits: { maxActivationBytes: perSample * 128 - 1 } }).graph).toBeUndefined();
    expect(compileFile(arch('resnet50.yaml'), { batch: 1, limits: { maxActivationBytes: perSample } }).graph).toBeDefined();
  });

  it('a huge input is refused by activation memory, pointing at input', () => {
    const r = compileFile(join(repoRoot, 'test/corpus/bad/limit-activation.yaml'));
    const d = limitErrors(r)[0];
    expect(d.message).toMatch(/^Activation memory for a batch of 32: an estimated [\d.]+ GiB/);
    expect(d.loc).toMatchObject({ line: 3, col: 8 });
  });

  it('a deep network (1,000 blocks, ~7,000 nodes in a chain) compiles: no recursion over nodes', () => {
    // graphlib's recursive isAcyclic overflowed the stack from about 5,000 chained nodes.
    const r = compileSource(cifar(1000));
    expect(r.diagnostics).toEqual([]);
    expect(r.graph!.nodes.length).toBeGreaterThan(7000);
  });

  it('the compiler never loads the runtime (limits come before any tensor)', () => {
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    for (const f of [...files(join(repoRoot, 'src/parser')), ...files(join(repoRoot, 'src/compiler'))]) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/from '(@tensorflow\/[^']*|[./]*runtime\/[^']*)'/);
    }
  });
});

describe('limits through the real CLI', () => {
  beforeAll(async () => {
    await ensureDist();
  });

  it('each limit flag refuses (exit 1, the flag named, no stack trace) and raising it accepts', async () => {
    const r50 = arch('resnet50.yaml');
    const cases: [string[], RegExp, string][] = [
      [['--max-blocks', '15'], /Blocks after expansion: 16, over the limit of 15/, '--max-blocks'],
      [['--max-nodes', '100'], /Nodes in the graph: more than 100/, '--max-nodes'],
      [['--max-params', '1_000_000'], /Parameters: 25,610,152, over the limit of 1,000,000/, '--max-params'],
      [['--batch', '128'], /Activation memory for a batch of 128: an estimated 17\.91 GiB/, '--max-activation-bytes'],
      [['--max-activation-bytes', '1GiB'], /batch of 32: an estimated 4\.48 GiB .* over the limit of 1\.00 GiB/, '--max-activation-bytes'],
    ];
    const results = await Promise.all(cases.map(([flags]) => runBin(['compile', r50, ...flags])));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stderr).toContain(`error[limit-exceeded]`);
      expect(r.stderr).toContain(cases[i][2]);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stdout).toBe('');
    });
    const ok = await runBin(['compile', r50, '--batch', '128', '--max-activation-bytes', '18GiB', '--format', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).totals.params).toBe(25_610_152);
  });

  it('bad limit values are usage errors (exit 2)', async () => {
    const runs = await Promise.all([['--batch', '0'], ['--max-activation-bytes', 'lots'], ['--max-nodes', '-3']].map((f) => runBin(['compile', arch('resnet18.yaml'), ...f])));
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    }
  });
});
