/**
 * The differential test on random architectures from the property generator (test/property/arch.ts):
 * each one's emitted PyTorch module, given the TF.js model's weights, has the compiler's counts and
 * module shapes and the TF.js model's output within 1e-4 of its scale. All cases run in one Python
 * process. TORCH_RUNS (default 200) and FUZZ_SEED choose the cases.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource, OP_KINDS } from '../../../src/compiler/index.js';
import { selectBackend } from '../../../src/targets/tfjs/index.js';
import { archArb, SEED, toYaml } from '../../property/arch.js';
import { checkCase, runHarness, tfjsCase, torchPython, type Case, type HarnessResult } from './helpers.js';

const python = torchPython();
const RUNS = Number(process.env.TORCH_RUNS) > 0 ? Number(process.env.TORCH_RUNS) : 200;
/** Small models only: the point is every op and shape, not size. */
const MAX_PARAMS = 100_000;

describe.skipIf(python === undefined)('torch target: random architectures', () => {
  let dir: string;
  const cases: Case[] = [];
  let results: Map<string, HarnessResult>;

  beforeAll(async () => {
    await selectBackend({ force: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'skipgraph-torch-random-'));
    const samples = fc.sample(archArb, { numRuns: RUNS * 4, seed: SEED });
    for (const a of samples) {
      if (cases.length >= RUNS) break;
      const r = compileSource(toYaml(a), { file: 'generated.yaml' });
      if (!r.graph || r.graph.totals.params > MAX_PARAMS) continue;
      cases.push(tfjsCase(`random${cases.length}`, r.graph, dir, 1000 + cases.length));
    }
    results = runHarness(python!, cases.map((c) => c.job));
  }, 1_800_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${RUNS} random architectures: counts, module shapes and outputs equal TF.js's (seed ${SEED})`, () => {
    expect(cases.length).toBe(RUNS);
    let worst = 0;
    const ops = new Set<string>();
    for (const c of cases) {
      worst = Math.max(worst, checkCase(c, results.get(c.id)));
      for (const n of c.graph.nodes) ops.add(n.op);
    }
    process.stderr.write(`torch target: ${cases.length} random architectures, largest difference ${worst.toExponential(2)} of the logits' scale; ops covered: ${[...ops].sort().join(', ')}\n`);
    // The generator draws every op from the registry (test/property/arch_gen.ts), so all of them appear.
    expect(OP_KINDS.filter((op) => !ops.has(op)), 'ops of the registry no random architecture held').toEqual([]);
  });
});
