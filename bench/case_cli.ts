/**
 * The bench cases of the whole CLI: `cli` (compile resnet152 against PyTorch building it),
 * `cold-start` (the packed CLI against `node -e ''`) and `profile` (where the time goes).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './common.js';
import { buildDist, PY, wall, type BenchContext } from './harness.js';
import { f, ratios, spread, stats, type CliResult, type ColdStart, type Profile } from './results.js';

// ---------------------------------------------------------------- cli: whole CLI vs PyTorch

export const CLI = ['bin/skipgraph.js', 'compile', 'architectures/resnet152.yaml', '--format', 'json'];

export function benchCli({ quick, log }: BenchContext): CliResult {
  buildDist();
  const reps = quick ? 2 : 5;
  const t = { cli: [] as number[], torch: [] as number[], nodeEmpty: [] as number[] };
  wall('node', CLI); wall(PY, ['bench/torch_ref.py', 'shapes']); // warm-up: file cache
  for (let i = 0; i < reps; i++) {
    t.cli.push(wall('node', CLI));
    t.torch.push(wall(PY, ['bench/torch_ref.py', 'shapes']));
    t.nodeEmpty.push(wall('node', ['-e', '']));
    log(`cli round ${i + 1}/${reps}: skipgraph ${t.cli.at(-1)!.toFixed(2)} s, torch ${t.torch.at(-1)!.toFixed(2)} s`);
  }
  return { seconds: { cli: stats(t.cli), torch: stats(t.torch), nodeEmpty: stats(t.nodeEmpty) }, ratioTorchOverCli: stats(ratios(t.torch, t.cli)), raw: t };
}

export function cliMarkdown(c: CliResult): string[] {
  return ['## 1b. Whole CLI against PyTorch', '',
    '`node bin/skipgraph.js compile architectures/resnet152.yaml --format json` (Node start included, dist built',
    'with `npx tsc -p tsconfig.build.json`) against `bench/torch_ref.py shapes`: Python builds torchvision\'s',
    'resnet152 and records every module\'s output shape with forward hooks in one 224x224 forward pass',
    '(batch 1, 2 threads), interpreter start and `import torch` included. Interleaved, one of each per round.', '',
    '| job | wall s, median (min .. max, n) |', '| --- | --- |',
    `| skipgraph CLI compile resnet152 --format json | ${spread(c.seconds.cli, 3)} |`,
    `| PyTorch: build resnet152 + hooked forward | ${spread(c.seconds.torch, 3)} |`,
    `| \`node -e ''\` (Node start alone, for scale) | ${spread(c.seconds.nodeEmpty, 3)} |`,
    `| **ratio PyTorch / skipgraph** (per round) | ${spread(c.ratioTorchOverCli, 1)} |`, ''];
}

// ---------------------------------------------------------------- cold-start: against Node's own

/** A command a user types first, and the start of Node itself (issue 25: aim for at most 1.6x). */
const COLD = ['bin/skipgraph.js', 'compile', 'architectures/resnet18.yaml'];

export function benchColdStart({ quick, log }: BenchContext): ColdStart {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) buildDist();
  // As the package ships it: dist/cli-bundle (bin/skipgraph.js runs it while it is newer than dist/cli).
  execFileSync('node', ['scripts/bundle-cli.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const pairs = quick ? 3 : 9;
  const t = { cli: [] as number[], nodeEmpty: [] as number[] };
  wall('node', COLD); wall('node', ['-e', '']); // warm-up: file cache (and Node 22's compile cache)
  const loadAtStart = loadavg()[0];
  for (let i = 0; i < pairs; i++) {
    t.cli.push(wall('node', COLD));
    t.nodeEmpty.push(wall('node', ['-e', '']));
  }
  rmSync(join(ROOT, 'dist/cli-bundle'), { recursive: true, force: true }); // the clone runs dist/cli itself
  const result: ColdStart = { command: `node ${COLD.join(' ')} (dist/cli-bundle, as packed)`, seconds: { cli: stats(t.cli), nodeEmpty: stats(t.nodeEmpty) }, ratio: stats(ratios(t.cli, t.nodeEmpty)), load: { start: loadAtStart, end: loadavg()[0] }, raw: t };
  log(`cold start: skipgraph compile resnet18 ${result.seconds.cli.median.toFixed(3)} s, node -e '' ${result.seconds.nodeEmpty.median.toFixed(3)} s, ratio ${result.ratio.median.toFixed(2)}x (median of ${pairs} interleaved pairs); load average ${loadAtStart.toFixed(2)} -> ${result.load.end.toFixed(2)}`);
  return result;
}

export function coldStartMarkdown(c: ColdStart): string[] {
  return ["## 1b'. CLI cold start against Node's own", '',
    `\`${c.command}\` against \`node -e ''\`, interleaved, one of each per pair (goal: at most 1.6x).`,
    `Load average ${f(c.load.start, 2)} at the start, ${f(c.load.end, 2)} at the end.`, '',
    '| job | wall s, median (min .. max, n) |', '| --- | --- |',
    `| skipgraph compile resnet18 | ${spread(c.seconds.cli, 3)} |`,
    `| \`node -e ''\` | ${spread(c.seconds.nodeEmpty, 3)} |`,
    `| **ratio skipgraph / node** (per pair) | ${spread(c.ratio, 2)} |`, ''];
}

// ---------------------------------------------------------------- profile of the CLI

interface ProfNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }

function where(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const d = /\/dist\/([^/]+)\//.exec(url);
  if (d) return `skipgraph ${d[1]}`;
  if (url.startsWith('node:') || url === '') return url === '' ? '(native/VM)' : 'node internals';
  return url.replace(/^file:\/\//, '').replace(ROOT, '.');
}

function profileOf(args: string[], runs: number, tag: string, inspector = false): Profile {
  const dir = join(ROOT, '.bench-out', `prof-${tag}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const self = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const how = inspector ? [...args, join(dir, `run${i}.cpuprofile`)] : ['--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${dir}`, ...args];
    const r = spawnSync('node', how, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`profile of ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, k) => {
      const n = byId.get(id)!;
      const us = p.timeDeltas[k] ?? 0;
      const fn = n.callFrame.functionName || '(anonymous)';
      if (fn === '(idle)') return;
      const w = where(n.callFrame.url);
      const key = `${fn} — ${w}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + us);
      byPkg.set(w, (byPkg.get(w) ?? 0) + us);
      total += us;
    });
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, ms: us / 1000 / runs, share: us / total }));
  return { command: args.join(' '), perCompileMs: 0, runs, totalMs: total / 1000 / runs, functions: top(self, 15), packages: top(byPkg, 12) };
}

export function benchProfile({ quick }: BenchContext): { cli: Profile; warm: Profile } {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) buildDist();
  const cli = profileOf(CLI, quick ? 1 : 3, 'cli');
  const warm = profileOf(['--import', 'tsx', 'bench/compile_loop.ts', 'resnet152', quick ? '50' : '200'], 1, 'warm', true);
  warm.command = `compileSource(resnet152) x ${quick ? 50 : 200}, warm, under node:inspector's profiler (bench/compile_loop.ts)`;
  warm.perCompileMs = warm.totalMs / (quick ? 50 : 200);
  return { cli, warm };
}

export function profileMarkdown(p: { cli: Profile; warm: Profile }): string[] {
  const out: string[] = [];
  const table = (title: string, p: Profile): void => {
    out.push(`${p.perCompileMs ? p.command : `\`node --cpu-prof --cpu-prof-interval 100 ${p.command}\``}, ${p.runs} run(s); ${f(p.totalMs, 0)} ms of samples per run${p.perCompileMs ? ` (${f(p.perCompileMs)} ms per compile, profiler on)` : ''}.`,
      'Self time (time in the function itself, not its callees).', '',
      `| ${title}: by package / part | ms per run | share |`, '| --- | ---: | ---: |');
    for (const r of p.packages) out.push(`| ${r.name} | ${f(r.ms, 1)} | ${f(r.share * 100, 1)}% |`);
    out.push('', `| ${title}: top functions by self time | ms per run | share |`, '| --- | ---: | ---: |');
    for (const r of p.functions) out.push(`| \`${r.name.replace(/\|/g, '\\|')}\` | ${f(r.ms, 1)} | ${f(r.share * 100, 1)}% |`);
    out.push('');
  };
  out.push('## 1c. Where compile time goes', '', '### The whole CLI (cold: Node start, module loading, one compile, JSON output)', '');
  table('CLI', p.cli);
  out.push('### Warm, in process (the same compile repeated; sources run through tsx, so the paths are ./src)', '');
  table('warm', p.warm);
  return out;
}
