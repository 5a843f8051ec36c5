/**
 * The `compile-families` bench case (issue 24: "the time `compile` takes" per family): for each
 * architectures/*.yaml, compileFile in process (warm: each file compiled until V8 has optimised,
 * then N rounds, the files interleaved within a round so that drift in load hits them alike) and
 * `node bin/skipgraph.js compile architectures/NAME.yaml` as a fresh process (the CLI a user runs,
 * from dist/ as built here; interleaved the same way). The load average is printed and kept:
 * another job on the machine changes both columns.
 *
 *   npm run bench -- --only compile-families [--quick]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile } from '../src/compiler/files.js';
import { ROOT } from './common.js';
import { timeOnce, timeWarm } from './case_compile.js';
import { buildDist, loadNow, wall, type BenchContext } from './harness.js';
import { f, spread, stats, type CompileFamilies } from './results.js';

export function benchCompileFamilies({ quick, log }: BenchContext): CompileFamilies {
  buildDist();
  const loadAverageStart = loadNow();
  log(`compile-families: load average ${loadAverageStart.join(', ')} at the start`);
  const names = readdirSync(join(ROOT, 'architectures')).filter((n) => n.endsWith('.yaml')).map((n) => n.slice(0, -5)).sort();
  const file = (name: string): string => join(ROOT, 'architectures', `${name}.yaml`);
  const once = (name: string) => (): number => {
    const r = compileFile(file(name));
    if (!r.graph) throw new Error(`${name}: ${r.diagnostics.map((d) => d.message).join('\n')}`);
    return r.graph.nodes.length;
  };
  const rounds = quick ? 3 : 15;
  const cliRounds = quick ? 1 : 5;
  // Warm-up of each file (timeWarm's rule), then the interleaved rounds.
  const nodes = new Map(names.map((n) => [n, timeWarm(once(n), 0).nodes]));
  const ms = new Map(names.map((n) => [n, [] as number[]]));
  for (let i = 0; i < rounds; i++) for (const n of names) ms.get(n)!.push(timeOnce(once(n)));
  log(`compile-families: in process done (${rounds} rounds of ${names.length} files); load ${loadNow()[0]}`);
  const cli = (name: string): string[] => ['bin/skipgraph.js', 'compile', `architectures/${name}.yaml`];
  for (const n of names) wall('node', cli(n)); // warm-up: file cache
  const seconds = new Map(names.map((n) => [n, [] as number[]]));
  for (let i = 0; i < cliRounds; i++) {
    for (const n of names) seconds.get(n)!.push(wall('node', cli(n)));
    log(`compile-families: CLI round ${i + 1}/${cliRounds}; load ${loadNow()[0]}`);
  }
  const rows = names.map((name) => ({ name, nodes: nodes.get(name)!, inProcessMs: stats(ms.get(name)!), cliSeconds: stats(seconds.get(name)!) }));
  const loadAverageEnd = loadNow();
  log(`compile-families: load average ${loadAverageEnd.join(', ')} at the end`);
  for (const r of rows) log(`  ${r.name.padEnd(20)} ${f(r.inProcessMs.median)} ms in process, ${f(r.cliSeconds.median, 3)} s CLI`);
  return { rounds, command: 'node bin/skipgraph.js compile architectures/NAME.yaml', loadAverageStart, loadAverageEnd, rows };
}

export function compileFamiliesMarkdown(c: CompileFamilies): string[] {
  const out = ['## 1d. Compile time of each shipped family (issue 24)', '',
    `In process: \`compileFile\` (read, parse, extends, schema, expansion, shapes, counts), warm, ${c.rounds} rounds with the files`,
    `interleaved in each round. CLI: \`${c.command}\` (dist/ built by the case), a fresh process each time`,
    `(Node start and module loading included, the table printed), ${c.rows[0]?.cliSeconds.n ?? 0} rounds interleaved the same way.`,
    `Load average (1, 5, 15 min) ${c.loadAverageStart.join(', ')} at the start and ${c.loadAverageEnd.join(', ')} at the end; the case itself keeps`,
    'one core busy (about 1.0 of it), the rest is other jobs on the machine.', '',
    '| architecture | nodes | in process ms, median (min .. max, n) | CLI wall s, median (min .. max, n) |', '| --- | ---: | --- | --- |'];
  for (const r of c.rows) out.push(`| ${r.name} | ${r.nodes} | ${spread(r.inProcessMs)} | ${spread(r.cliSeconds, 3)} |`);
  out.push('');
  return out;
}
