/**
 * The long model-folder fuzz (issue 19): SKIPGRAPH_FUZZ_N mutations (default 100,000) of a model
 * folder and a safetensors file, through test/property/model_fuzz.ts (the CI slice runs 600 of
 * the same cases). Prints progress every 5,000 cases and writes the figures to
 * test-output/model-fuzz.json; exits 1 when any case threw something other than a UserError,
 * took over 2 s, leaked the sentinel or printed a stack frame.
 *
 *   SKIPGRAPH_FUZZ_N=100000 node --import tsx bench/model_fuzz.ts      (SKIPGRAPH_FUZZ_SEED=n)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorld, newFigures, runCases } from '../test/property/model_fuzz.js';

const N = Number(process.env.SKIPGRAPH_FUZZ_N ?? 100_000);
const SEED = Number(process.env.SKIPGRAPH_FUZZ_SEED ?? 1919);
const root = mkdtempSync(join(tmpdir(), 'skipgraph-model-fuzz-long-'));
const world = await makeWorld(root);
const f = newFigures();
const t0 = performance.now();
const STEP = 5_000;
for (let at = 0; at < N; at += STEP) {
  runCases(world, SEED, at, Math.min(N, at + STEP), f);
  const s = (performance.now() - t0) / 1000;
  console.log(`${f.cases} cases in ${s.toFixed(0)} s: ${f.loaded} loaded, ${f.refused} refused, ${f.uncaught} uncaught, ${f.hangs} hangs, ${f.outsideReads} outside reads, ${f.traces} traces; slowest ${f.maxMs.toFixed(0)} ms`);
}
world.model.dispose();
rmSync(root, { recursive: true, force: true });
const seconds = (performance.now() - t0) / 1000;
const top = [...f.messages].sort((a, b) => b[1] - a[1]).slice(0, 25);
const out = { seed: SEED, seconds: Math.round(seconds), ...f, distinctMessages: f.messages.size, messages: Object.fromEntries(top) };
mkdirSync('test-output', { recursive: true });
writeFileSync('test-output/model-fuzz.json', JSON.stringify(out, null, 1));
console.log(JSON.stringify({ ...out, messages: undefined }, null, 1));
process.exitCode = f.uncaught + f.hangs + f.outsideReads + f.traces > 0 ? 1 : 0;
