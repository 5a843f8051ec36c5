/**
 * Property 4 (issue 19): mutated model folders and safetensors files (test/property/model_fuzz.ts)
 * load or are refused with a UserError: 0 other exceptions, 0 cases over 2 s, 0 reads outside the
 * folder (a sentinel file's bytes never reach an output or a message), 0 stack frames in a
 * message. This is the CI slice; bench/model_fuzz.ts runs 100,000 (SKIPGRAPH_FUZZ_N).
 * FUZZ_RUNS=n sets this slice's size, FUZZ_SEED=n its seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorld, newFigures, runCases } from './model_fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const SEED = Number(process.env.FUZZ_SEED ?? 19);
const root = mkdtempSync(join(tmpdir(), 'skipgraph-model-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('property: mutated model folders and safetensors files', () => {
  it(`load or are refused with a user error, never anything else (${RUNS} runs, seed ${SEED})`, async () => {
    const world = await makeWorld(root);
    const f = newFigures();
    runCases(world, SEED, 0, RUNS, f);
    world.model.dispose();
    expect(f.failures).toEqual([]);
    expect({ uncaught: f.uncaught, hangs: f.hangs, outsideReads: f.outsideReads, traces: f.traces }).toEqual({ uncaught: 0, hangs: 0, outsideReads: 0, traces: 0 });
    // Both outcomes and a spread of refusals, or the mutations are not doing their job.
    expect(f.loaded).toBeGreaterThan(RUNS / 50);
    expect(f.refused).toBeGreaterThan(RUNS / 2);
    expect(f.messages.size).toBeGreaterThan(20);
    if (process.env.FUZZ_REPORT) console.log(JSON.stringify({ ...f, messages: f.messages.size }, null, 1));
  }, 300_000);
});
