/**
 * Resource limits (issue 5): maxBlocks, maxNodes, maxParams and maxActivationBytes (for a batch,
 * --batch) are checked on the compiled description, before the runtime exists; each error says
 * what was estimated and which flag raises the limit. Tested through the API and the real CLI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile, compileSource, DEFAULT_BATCH, DEFAULT_LIMITS, formatTable } from '../../src/compiler/files.js';
import type { Diagnostic } from '../../src/parser/index.js';
import { ensureDist, repoRoot, runBin, STACK_FRAME } from './bin.js';

const arch = (f: string) => join(repoRoot, 'architectures', f);
const limitErrors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.code === 'limit-exceeded');

/** A one-stage net with the given input and stem (line 2: input). */
const arch_ = (input: string, stem: string) =>
  ['name: big', `input: ${input}`, 'classes: 10', 'stem:', stem, 'stages:', '  - { block: basic, channels: 4, blocks: 1 }', 'head:', '  - { op: global_avg_pool }', '  - { op: dense, units: $classes }'].join('\n');

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
      // EfficientNet-B7 at 224 needs 534.54 MiB of activations per sample: only the warning for a
      // batch of 32 (16.70 GiB) may be said, never an error.
      const allowed = f === 'efficientnet_b7.yaml' ? [['warning', 'limit-exceeded']] : [];
      expect(limitErrors(r).map((d) => [d.severity, d.code]), f).toEqual(allowed);
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
    // 16^6 layers if it expanded them: the refusal must come from sizing, which the message shows
    // (no wall-clock assertion: the test's timeout is the backstop on a busy machine).
    const r = compileSource(text);
    expect(limitErrors(r)[0].message).toMatch(/The block "l0" expands to 16,777,216 layers .* over the limit of 400,000 nodes/);
    expect(limitErrors(r)[0].hint).toMatch(/--max-nodes/);
  });

  it('maxParams names the count and the flag', () => {
    const r = compileFile(arch('resnet50.yaml'), { limits: { maxParams: 25_000_000 } });
    expect(limitErrors(r)[0].message).toBe('Parameters: 25,610,152, over the limit of 25,000,000.');
    expect(limitErrors(r)[0].hint).toMatch(/--max-params/);
    expect(compileFile(arch('resnet50.yaml'), { limits: { maxParams: 25_610_152 } }).graph).toBeDefined();
  });

  it('maxActivationBytes: per-sample activations (the input included) x batch; a warning by default, an error when set', () => {
    const g = compileFile(arch('resnet50.yaml')).graph!;
    const perSample = g.totals.activationBytes; // 143.85 MiB: 143.28 MiB of node outputs + the 224x224x3 input
    const inputBytes = 4 * 224 * 224 * 3;
    const outputs = g.nodes.filter((n) => n.op !== 'input').reduce((sum, n) => sum + 4 * n.shape.reduce((p, q) => p * q, 1), 0);
    expect(perSample).toBe(outputs + inputBytes); // 143.28 MiB of node outputs before the input counted
    expect(g.totals).toMatchObject({ batch: 32, activationBytesAtBatch: perSample * 32 });
    // Over the default limit: reported, compiled anyway (compiling allocates nothing).
    const r = compileFile(arch('resnet50.yaml'), { batch: 128 });
    expect(r.graph).toBeDefined();
    const d = limitErrors(r)[0];
    expect(d.severity).toBe('warning');
    expect(d.message).toBe('Activation memory for a batch of 128: an estimated 17.98 GiB (143.85 MiB of float32 forward activations per sample x 128), over the limit of 16.00 GiB.');
    expect(d.hint).toMatch(/--max-activation-bytes/);
    expect(d.hint).toMatch(/--batch/);
    // Set explicitly, it is an error; exactly at the limit passes, one byte less fails.
    const set = compileFile(arch('resnet50.yaml'), { batch: 128, limits: { maxActivationBytes: 16 * 2 ** 30 } });
    expect(set.graph).toBeUndefined();
    expect(limitErrors(set)[0].severity).toBe('error');
    expect(compileFile(arch('resnet50.yaml'), { batch: 128, limits: { maxActivationBytes: perSample * 128 } }).graph).toBeDefined();
    expect(compileFile(arch('resnet50.yaml'), { batch: 128, limits: { maxActivationBytes: perSample * 128 - 1 } }).graph).toBeUndefined();
    expect(compileFile(arch('resnet50.yaml'), { batch: 1, limits: { maxActivationBytes: perSample } }).graph).toBeDefined();
  });

  it('ordinary large models compile by default, their estimate reported (ResNet-50 512x512, ResNet-152 320x320, ResNeXt-101 64x8d)', () => {
    const cases: [string, string[], number][] = [
      ['resnet50.yaml', ['input.height=512', 'input.width=512'], 512 * 512],
      ['resnet152.yaml', ['input.height=320', 'input.width=320'], 320 * 320],
      ['resnet101.yaml', ['stage_defaults={groups: 64, width_per_group: 8}'], 224 * 224],
    ];
    for (const [file, sets, pixels] of cases) {
      const r = compileFile(arch(file), { sets });
      expect(r.graph, `${file} ${sets.join(' ')}: ${r.diagnostics.map((d) => d.message).join('; ')}`).toBeDefined();
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const t = r.graph!.totals;
      expect(t.activationBytesAtBatch).toBe(t.activationBytes * 32);
      // Over 16 GiB at 32: a warning with both figures, never a refusal.
      expect(t.activationBytesAtBatch).toBeGreaterThan(16 * 2 ** 30);
      expect(limitErrors(r).map((d) => d.severity)).toEqual(['warning']);
      expect(t.activationBytes).toBeGreaterThan(4 * pixels * 3);
    }
    // ResNet-50 at 512x512: the 23.4 GiB for a batch of 32, now with the input counted.
    const big = compileFile(arch('resnet50.yaml'), { sets: ['input.height=512', 'input.width=512'] });
    expect(formatTable(big.graph!)).toMatch(/^Activations: +751\.\d\d MiB per sample, 23\.\d\d GiB for a batch of 32 \(forward, float32, input included\)$/m);
    // ResNeXt-101 64x8d: groups 64, bottleneck width int(64 * 8 / 64) * 64 = 512 in layer1.
    const x = compileFile(arch('resnet101.yaml'), { sets: ['stage_defaults={groups: 64, width_per_group: 8}'] }).graph!;
    expect(x.nodes.find((n) => n.id === 'layer1.0.conv2')).toMatchObject({ attrs: { groups: 64, filters: 512 } });
  });

  it('the input node counts: a 65536x65536 input is refused, and buildModel checks before its probe allocates', async () => {
    const huge = arch_('{ height: 65536, width: 65536, channels: 1 }', '  - { op: conv, filters: 4, kernel: 64, stride: 64, padding: 0 }');
    const r = compileSource(huge);
    const d = limitErrors(r)[0];
    // 16 GiB of input alone: one sample is over the limit, so nothing could ever be built.
    expect(d.severity).toBe('error');
    expect(d.message).toMatch(/per sample x 32\), over the limit of 16\.00 GiB\.$/);
    expect(d.loc).toMatchObject({ line: 2, col: 8 });
    const small = compileSource(arch_('{ height: 256, width: 256, channels: 1 }', '  - { op: conv, filters: 4, kernel: 64, stride: 64, padding: 0 }'));
    const recount = small.graph!.nodes.reduce((sum, n) => sum + 4 * n.shape.reduce((p, q) => p * q, 1), 0);
    expect(small.graph!.nodes[0]).toMatchObject({ op: 'input', shape: [256, 256, 1] });
    expect(small.graph!.totals.activationBytes).toBe(recount);
    const { buildModel } = await import('../../src/targets/tfjs/build.js');
    const { UserError } = await import('../../src/errors/index.js');
    // A batch the budget cannot hold: refused before one tensor exists.
    const g = small.graph!;
    const perSample = g.totals.activationBytes;
    expect(() => buildModel(g, { batch: 64, maxActivationBytes: perSample * 63, probe: false })).toThrow(UserError);
    expect(() => buildModel(g, { maxActivationBytes: perSample - 1 })).toThrow(/a batch of 1 needs an estimated .* nothing was allocated/);
  });

  it('a limit error caused by --set points at the --set argument, not the base file', () => {
    const r = compileFile(arch('resnet152.yaml'), { sets: ['name=x', 'input.height=320'], limits: { maxActivationBytes: 8 * 2 ** 30 } });
    const d = limitErrors(r)[0];
    expect(d.severity).toBe('error');
    expect(d.loc).toMatchObject({ file: '--set[2]', line: 1, col: 14 });
    expect(d.message).toMatch(/\(set by --set input\.height=320\)\.$/);
    const p = compileFile(arch('resnet50.yaml'), { sets: ['stages.3.channels=1024'], limits: { maxParams: 30_000_000 } });
    expect(limitErrors(p)[0].loc).toMatchObject({ file: '--set[1]', line: 1, col: 19 });
    expect(limitErrors(p)[0].message).toMatch(/\(set by --set stages\.3\.channels=1024\)\.$/);
    // Without --set, the base file's input line, as before.
    expect(limitErrors(compileFile(arch('resnet152.yaml'), { limits: { maxActivationBytes: 2 ** 30 } }))[0].loc.file).toMatch(/resnet18\.yaml$/);
  });

  it('a limit reached in a base file says which extends chain reached it (resnet152 -> resnet50 -> resnet18)', () => {
    const r = compileFile(arch('resnet152.yaml'), { limits: { maxNodes: 3 } });
    const [d] = limitErrors(r);
    const [top, mid, base] = [...r.sources.keys()]; // the files as diagnostics name them
    expect([top, mid, base].map((f) => f.replace(/^.*\//, ''))).toEqual(['resnet152.yaml', 'resnet50.yaml', 'resnet18.yaml']);
    expect(d.loc.file).toBe(base);
    expect(d.related).toContainEqual({
      message: `reached through ${top} -> ${mid} -> ${base} (extends)`,
      loc: expect.objectContaining({ file: top, line: 2, col: 1 }),
    });
    // A problem in the compiled file itself has no such note.
    const own = limitErrors(compileFile(arch('resnet152.yaml'), { limits: { maxNodes: 100 } }))[0];
    expect(own.loc.file).toBe(top);
    expect(own.related ?? []).toEqual([]);
  });

  it('a huge input is refused by activation memory, pointing at input', () => {
    const r = compileFile(join(repoRoot, 'test/corpus/bad/limit-activation.yaml'));
    const d = limitErrors(r)[0];
    expect(d.severity).toBe('error');
    expect(d.message).toMatch(/^Activation memory for a batch of 32: an estimated [\d.]+ TiB/);
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
      [['--batch', '128', '--max-activation-bytes', '16GiB'], /Activation memory for a batch of 128: an estimated 17\.98 GiB/, '--max-activation-bytes'],
      [['--max-activation-bytes', '1GiB'], /batch of 32: an estimated 4\.50 GiB .* over the limit of 1\.00 GiB/, '--max-activation-bytes'],
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

  it('ResNet-50 at 512x512 compiles by default: exit 0, the estimate in the summary and a warning', async () => {
    const r = await runBin(['compile', arch('resnet50.yaml'), '--set', 'input.height=512', '--set', 'input.width=512']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Activations: +751\.\d\d MiB per sample, 23\.\d\d GiB for a batch of 32/);
    expect(r.stderr).toContain('warning[limit-exceeded]: Activation memory for a batch of 32');
    expect(r.stderr).toMatch(/\n1 warning\.\n/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('bad limit values are usage errors (exit 2)', async () => {
    const runs = await Promise.all([['--batch', '0'], ['--max-activation-bytes', 'lots'], ['--max-nodes', '-3']].map((f) => runBin(['compile', arch('resnet18.yaml'), ...f])));
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    }
  });
});
