/**
 * Property (issue 22): mutated .onnx files given to `skipgraph infer` (test/property/model_fuzz_onnx.ts)
 * run or are refused with exit 1: 0 other exits, 0 cases over 2 s, 0 reads outside the model's
 * folder, 0 stack frames. The CI slice; bench/model_fuzz.ts runs the long one.
 * FUZZ_RUNS=n sets this slice's size, FUZZ_SEED=n its seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxRuntime, skipTestWithout } from '../helpers/require.js';
import { newFigures } from './model_fuzz.js';
import { makeOnnxWorld, runOnnxCases } from './model_fuzz_onnx.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 22);
const root = mkdtempSync(join(tmpdir(), 'skipgraph-onnx-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));


describe('property: mutated .onnx files given to infer', () => {
  it(`run or are refused with exit 1, never anything else (${RUNS} runs, seed ${SEED})`, async (ctx) => {
    const ort = await loadOnnxRuntime();
    if ('why' in ort) return skipTestWithout(ctx, 'onnxruntime-node', ort.why);
    const world = makeOnnxWorld(root);
    const f = newFigures();
    await runOnnxCases(world, SEED, 0, RUNS, f);
    expect(f.failures).toEqual([]);
    expect({ uncaught: f.uncaught, hangs: f.hangs, outsideReads: f.outsideReads, traces: f.traces }).toEqual({ uncaught: 0, hangs: 0, outsideReads: 0, traces: 0 });
    // Both outcomes and a spread of refusals, or the mutations are not doing their job.
    expect(f.loaded).toBeGreaterThan(RUNS / 50);
    expect(f.refused).toBeGreaterThan(RUNS / 3);
    expect(f.messages.size).toBeGreaterThan(15);
    if (process.env.FUZZ_REPORT) console.log(JSON.stringify({ ...f, messages: Object.fromEntries(f.messages) }, null, 1));
  }, 300_000);
});
