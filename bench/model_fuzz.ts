/**
 * The long model-folder fuzz (issue 19): SKIPGRAPH_FUZZ_N mutations (default 100,000) of a model
 * folder and a safetensors file, through test/property/model_fuzz.ts (the CI slice runs 600 of
 * the same cases). Prints progress every 5,000 cases and writes the figures to
 * test-output/model-fuzz.json; exits 1 when any case threw something other than a UserError,
 * took over 2 s, leaked the sentinel or printed a stack frame.
 *
 * With them, interleaved per step, two slices of issue 22 (a tenth of N each unless set):
 * SKIPGRAPH_FUZZ_ONNX_N mutated .onnx files given to `infer` (test/property/model_fuzz_onnx.ts) and
 * SKIPGRAPH_FUZZ_DATA_N mutated trainer data files, read by Node and by Python's check_data
 * (test/property/model_fuzz_data.ts; skipped, and said, when Python cannot import torch).
 *
 *   SKIPGRAPH_FUZZ_N=100000 node --import tsx bench/model_fuzz.ts      (SKIPGRAPH_FUZZ_SEED=n)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorld, newFigures, runCases, type Figures } from '../test/property/model_fuzz.js';
import { makeDataWorld, pythonDataMissing, runDataCases } from '../test/property/model_fuzz_data.js';
import { makeOnnxWorld, runOnnxCases } from '../test/property/model_fuzz_onnx.js';

const N = Number(process.env.SKIPGRAPH_FUZZ_N ?? 100_000);
const SEED = Number(process.env.SKIPGRAPH_FUZZ_SEED ?? 1919);
const root = mkdtempSync(join(tmpdir(), 'skipgraph-model-fuzz-long-'));
const world = await makeWorld(root);
const ONNX_N = Number(process.env.SKIPGRAPH_FUZZ_ONNX_N ?? Math.round(N / 10));
const DATA_N = Number(process.env.SKIPGRAPH_FUZZ_DATA_N ?? Math.round(N / 10));
const onnxWorld = makeOnnxWorld(join(root, 'onnx'));
const dataWorld = makeDataWorld(join(root, 'data'));
const python = pythonDataMissing();
if (python !== undefined) console.log(`data slice without Python: ${python}`);
const f = newFigures();
const fo = newFigures();
const fd = newFigures();
const t0 = performance.now();
const STEP = 5_000;
const line = (name: string, g: Figures) => `${name} ${g.cases} cases: ${g.loaded} ok, ${g.refused} refused, ${g.uncaught} uncaught, ${g.hangs} hangs, ${g.outsideReads} outside reads, ${g.traces} traces; slowest ${g.maxMs.toFixed(0)} ms`;
for (let at = 0, step = 0; at < N; at += STEP, step++) {
  const steps = Math.ceil(N / STEP);
  const share = (n: number) => [Math.floor((n * step) / steps), Math.floor((n * (step + 1)) / steps)] as const;
  runCases(world, SEED, at, Math.min(N, at + STEP), f);
  const [o0, o1] = share(ONNX_N);
  await runOnnxCases(onnxWorld, SEED, o0, o1, fo);
  const [d0, d1] = share(DATA_N);
  runDataCases(dataWorld, SEED, d0, d1, fd, python === undefined);
  const s = (performance.now() - t0) / 1000;
  console.log(`${s.toFixed(0)} s: ${line('model folder', f)} | ${line('onnx', fo)} | ${line('data', fd)}`);
}
world.model.dispose();
rmSync(root, { recursive: true, force: true });
const seconds = (performance.now() - t0) / 1000;
const top = [...f.messages].sort((a, b) => b[1] - a[1]).slice(0, 25);
const slice = (g: Figures) => ({ ...g, distinctMessages: g.messages.size, messages: Object.fromEntries([...g.messages].sort((a, b) => b[1] - a[1]).slice(0, 25)) });
const out = { seed: SEED, seconds: Math.round(seconds), ...f, distinctMessages: f.messages.size, messages: Object.fromEntries(top), onnx: slice(fo), data: slice(fd) };
mkdirSync('test-output', { recursive: true });
writeFileSync('test-output/model-fuzz.json', JSON.stringify(out, null, 1));
console.log(JSON.stringify({ ...out, messages: undefined, onnx: { ...out.onnx, messages: undefined }, data: { ...out.data, messages: undefined } }, null, 1));
process.exitCode = [f, fo, fd].some((g) => g.uncaught + g.hangs + g.outsideReads + g.traces > 0) ? 1 : 0;
