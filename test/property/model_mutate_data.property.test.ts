/**
 * Property (issue 22): mutated data files of the PyTorch trainer (test/property/model_fuzz_data.ts)
 * never make Node's readers throw, and Python's check_data (what the trainer runs before
 * training) accepts them or raises its DataError: 0 other exceptions, 0 cases over 2 s, 0
 * tracebacks in a message. The CI slice; bench/model_fuzz.ts runs the long one.
 * FUZZ_RUNS=n sets this slice's size, FUZZ_SEED=n its seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newFigures } from './model_fuzz.js';
import { makeDataWorld, pythonDataMissing, runDataCases } from './model_fuzz_data.js';
import { skipTestWithout } from '../helpers/require.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 22);
const root = mkdtempSync(join(tmpdir(), 'skipgraph-data-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('property: mutated trainer data files', () => {
  it(`Node's readers never throw; Python's check_data accepts or raises DataError (${RUNS} runs, seed ${SEED})`, (ctx) => {
    const missing = pythonDataMissing();
    if (missing !== undefined) return skipTestWithout(ctx, 'torch trainer data module', missing);
    const world = makeDataWorld(root);
    const f = newFigures();
    runDataCases(world, SEED, 0, RUNS, f, true);
    expect(f.failures).toEqual([]);
    expect({ uncaught: f.uncaught, hangs: f.hangs, traces: f.traces }).toEqual({ uncaught: 0, hangs: 0, traces: 0 });
    expect(f.byTarget).toEqual({ 'data-node': RUNS, 'data-python': RUNS });
    // Both outcomes in Python and a spread of refusals, or the mutations are not doing their job.
    expect(f.refused).toBeGreaterThan(RUNS / 3);
    expect(f.loaded - RUNS).toBeGreaterThan(RUNS / 50);
    expect(f.messages.size).toBeGreaterThan(15);
    if (process.env.FUZZ_REPORT) console.log(JSON.stringify({ ...f, messages: Object.fromEntries(f.messages) }, null, 1));
  }, 300_000);
});
