/**
 * skipgraph's benchmark harness (GitHub issue 6). Not a test: it measures, never fails on a figure.
 *
 *   npm run bench [-- --only CASE] [-- --quick] [-- --report]
 *
 * CASE is one of the names in CASES below. --report only regenerates docs/benchmarks.md from
 * bench/results/latest.json and bench/notes.md.
 *
 * Every case runs a warm-up, then several repetitions; the tables show the median and the
 * min..max spread. Comparisons (skipgraph vs PyTorch, emitted vs hand-written) are ratios measured
 * in the same run, interleaved A, B, A, B, so drift in machine load hits both sides.
 * Writes bench/results/latest.json (merged with the previous file under --only) and regenerates
 * docs/benchmarks.md from it (bench/report.ts). The results' type is bench/results.ts; each case
 * lives in its own file and writes its own key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCli, benchColdStart, benchProfile } from './case_cli.js';
import { benchCompile } from './case_compile.js';
import { benchCompileFamilies } from './case_compile_families.js';
import { benchFamiliesTargets } from './case_families_targets.js';
import { benchFold, benchOverhead, benchSweep, benchTrain } from './case_train.js';
import { ROOT } from './common.js';
import { loadNow, log, machine, type BenchContext } from './harness.js';
import { markdown } from './report.js';
import type { BenchResults } from './results.js';
import { benchTorch } from './torch_case.js';
import { benchTorchEpoch } from './torch_epoch.js';

/** A case: its `--only` name, and how it runs and stores its result. In the order they run. */
interface BenchCase {
  name: string;
  run(ctx: BenchContext, R: BenchResults): void;
}

const CASES: readonly BenchCase[] = [
  { name: 'compile', run: (c, R) => void (R.compile = benchCompile(c)) },
  { name: 'compile-families', run: (c, R) => void (R.compileFamilies = benchCompileFamilies(c)) },
  { name: 'families-targets', run: (c, R) => void (R.familiesTargets = benchFamiliesTargets(c)) },
  { name: 'cli', run: (c, R) => void (R.cli = benchCli(c)) },
  { name: 'cold-start', run: (c, R) => void (R.coldStart = benchColdStart(c)) },
  { name: 'profile', run: (c, R) => void (R.profile = benchProfile(c)) },
  { name: 'train', run: (c, R) => void (R.train = benchTrain(c)) },
  { name: 'overhead', run: (c, R) => void (R.overhead = benchOverhead(c)) },
  { name: 'fold', run: (c, R) => void (R.fold = benchFold(c)) },
  { name: 'torch', run: (c, R) => void (R.torch = benchTorch(c.quick, c.log)) },
  { name: 'torch-epoch', run: (c, R) => void (R.torchEpoch = benchTorchEpoch(c.quick, c.log)) },
  { name: 'sweep', run: (c, R) => void (R.sweep = benchSweep(c)) },
];

const argv = process.argv.slice(2);
const ctx: BenchContext = { quick: argv.includes('--quick'), log };
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
if (only !== undefined && !CASES.some((c) => c.name === only)) throw new Error(`--only takes one of ${CASES.map((c) => c.name).join(', ')}`);

const resultsDir = join(ROOT, 'bench', 'results');
const latest = join(resultsDir, 'latest.json');
const reportOnly = argv.includes('--report'); // regenerate docs/benchmarks.md from latest.json, measure nothing
const previous = (only !== undefined || reportOnly) && existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as BenchResults) : undefined;
if (reportOnly && previous === undefined) throw new Error(`--report needs ${latest}: run a case first`);
const R: BenchResults = reportOnly ? previous! : { ...previous, machine: machine(ctx.quick) };
if (!reportOnly) {
  for (const c of CASES) if (only === undefined || only === c.name) c.run(ctx, R);
  R.machine.loadAverageEnd = loadNow();
}
const notesFile = join(ROOT, 'bench', 'notes.md');
R.notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trimEnd().split('\n') : undefined;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(latest, `${JSON.stringify(R, null, 2)}\n`);
writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), markdown(R));
log(`wrote ${latest} and docs/benchmarks.md`);
