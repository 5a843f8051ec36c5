/**
 * Property 1 (issue 5): random valid architectures compile; every add joins equal shapes; every
 * node's shape, parameters and MACs match a recount from its attributes (recount.ts), and the
 * totals match a count from the description itself (arch.ts, by torchvision's formulas).
 *
 * FUZZ_RUNS=n sets the number of cases, FUZZ_SEED=n the seed (docs/reliability.md).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/index.js';
import { archArb, expected, runs, SEED, toYaml, type Arch } from './arch.js';
import { recountGraph } from './recount.js';
import { requireClassifier } from '../../src/compiler/index.js';

const RUNS = runs(250);
/** Long runs (FUZZ_RUNS=100000) need more than vitest's default timeout. */
const TIMEOUT = Math.max(120_000, RUNS * 60);

describe('property: random valid architectures', () => {
  it(`compile, with shapes and counts equal to an independent recount (${RUNS} runs, seed ${SEED})`, () => {
    let users = 0;
    let inserted = 0;
    fc.assert(
      fc.property(archArb, (a) => {
        const text = toYaml(a);
        const r = compileSource(text, { file: 'generated.yaml' });
        if (!r.graph) throw new Error(`did not compile:\n${r.diagnostics.map((d) => `${d.code} ${d.loc.line}:${d.loc.col} ${d.message}`).join('\n')}\n---\n${text}`);
        const g = r.graph;
        const check = recountGraph(g);
        if (check.problems.length) throw new Error(`${check.problems.slice(0, 5).join('\n')}\n---\n${text}`);
        expect(g.totals.trainableParams).toBe(check.trainable);
        expect(g.totals.nonTrainableParams).toBe(check.nonTrainable);
        expect(g.totals.params).toBe(check.trainable + check.nonTrainable);
        expect(g.totals.macs).toBe(check.macs);
        expect(g.totals.activationBytes).toBe(check.activationBytes);

        // From the description alone (by hand, torchvision's formulas).
        const want = expected(a);
        const out = g.nodes.find((n) => n.id === requireClassifier(g, 'this test').output)!;
        expect(out.shape).toEqual(want.output);
        expect({ trainable: g.totals.trainableParams, nonTrainable: g.totals.nonTrainableParams, macs: g.totals.macs }).toEqual({
          trainable: want.trainable,
          nonTrainable: want.nonTrainable,
          macs: want.macs,
        });
        expect(g.nodes.filter((n) => n.op === 'add').length).toBe(want.adds);
        expect(g.nodes.filter((n) => n.inserted).length).toBe(want.inserted);
        expect(g.stages.length).toBe(a.stages.length);
        if (a.blocks) users++;
        inserted += want.inserted;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // The generator must actually reach user blocks and shortcut insertions.
    expect(users).toBeGreaterThan(0);
    expect(inserted).toBeGreaterThan(0);
  }, TIMEOUT);

  it('the hand count reproduces torchvision for ResNet-18 and ResNet-50 (so it is a real oracle)', () => {
    const imagenet = (block: 'basic' | 'bottleneck', blocks: number[]): Arch => ({
      name: 'r',
      input: { height: 224, width: 224, channels: 3 },
      classes: 1000,
      shortcut: 'projection',
      stem: [{ op: 'conv', filters: 64, kernel: 7, stride: 2, padding: 3 }, { op: 'bn' }, { op: 'relu' }, { op: 'maxpool', kernel: 3, stride: 2, padding: 1 }],
      stages: [64, 128, 256, 512].map((channels, i) => ({ block, channels, blocks: blocks[i], stride: i === 0 ? 1 : 2 })),
      head: [{ op: 'global_avg_pool' }, { op: 'dense', units: '$classes' }],
    });
    expect(expected(imagenet('basic', [2, 2, 2, 2]))).toMatchObject({ trainable: 11_689_512, nonTrainable: 9_600, macs: 1_814_073_344, output: [1000] });
    expect(expected(imagenet('bottleneck', [3, 4, 6, 3]))).toMatchObject({ trainable: 25_557_032, nonTrainable: 53_120, macs: 4_089_184_256 });
  });
});
