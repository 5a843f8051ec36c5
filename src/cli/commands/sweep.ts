import { statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { formatCount, formatPareto, parseAxis, parseCount, sweep, type Axis, type Constraint, type SweepFigure, type SweepRow } from '../../compiler/files.js';
import { parseFile } from '../../parser/files.js';
import { UserError } from '../../errors/index.js';
import { makeFolders } from '../../io/out_dir.js';
import { kindOf, planOutput, SWEEP_PLOT_MARK, writeOutput, type PlannedOutput } from '../../io/output_policy.js';
import { collect, EXIT, parsePositiveInt, shown, UsageError, type Io } from '../io.js';
import { sourceFiles } from './compile.js';
import { userInput } from './saved_model.js';

interface SweepFlags {
  grid?: string[];
  range?: string[];
  sample?: number;
  seed?: string;
  set?: string[];
  format: string;
  plot?: string;
  emit?: string;
  measure?: boolean;
  backend?: string;
  force?: boolean;
  maxMacs?: string;
  minMacs?: string;
  maxParams?: string;
  minParams?: string;
  maxActivations?: string;
  minActivations?: string;
}

const FORMATS = ['table', 'csv', 'json'] as const;

function constraintsOf(f: SweepFlags): Constraint[] {
  const out: Constraint[] = [];
  const add = (flag: string, value: string | undefined, figure: SweepFigure, bound: 'min' | 'max') => {
    if (value === undefined) return;
    const n = parseCount(value);
    if (n === undefined) throw new UsageError(`${flag} needs a count such as 4.5G, 25M or 300000, not "${value}".`);
    out.push({ figure, [bound]: n });
  };
  add('--max-macs', f.maxMacs, 'macs', 'max');
  add('--min-macs', f.minMacs, 'macs', 'min');
  add('--max-params', f.maxParams, 'params', 'max');
  add('--min-params', f.minParams, 'params', 'min');
  add('--max-activations', f.maxActivations, 'activations', 'max');
  add('--min-activations', f.minActivations, 'activations', 'min');
  return out;
}

function axesOf(f: SweepFlags): Axis[] {
  const axes: Axis[] = [];
  for (const [flag, args] of [['--grid', f.grid ?? []], ['--range', f.range ?? []]] as const) {
    for (const a of args) {
      const axis = parseAxis(a);
      if ('error' in axis) throw new UsageError(`${flag}: ${axis.error}.`);
      if (flag === '--grid' && !('values' in axis)) throw new UsageError(`--grid ${a}: a grid lists values (2,4,6); sample a range with --range and --sample.`);
      axes.push(axis);
    }
  }
  if (axes.length === 0) throw new UsageError('Give at least one axis: --grid path=v1,v2,... or --sample N with --range path=lo..hi.');
  if (f.range?.length && f.sample === undefined) throw new UsageError('--range axes are sampled: add --sample N.');
  return axes;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatRows(rows: SweepRow[], paths: string[], format: string, times: (number | undefined)[]): string {
  const measured = times.some((t) => t !== undefined);
  if (format === 'json') {
    return JSON.stringify(
      rows.map((r, i) => ({ settings: r.settings, status: r.status, reason: r.reason, params: r.params, macs: r.macs, flops: r.flops, activations: r.activations, ...(measured ? { forwardMs: times[i] } : {}) })),
      null,
      2,
    );
  }
  const head = [...paths, 'status', 'params', 'macs', 'flops', 'activations', ...(measured ? ['forward_ms'] : []), 'reason'];
  const cells = rows.map((r, i) => [
    ...paths.map((p) => r.settings[p] ?? ''),
    r.status,
    r.params === undefined ? '' : String(r.params),
    r.macs === undefined ? '' : String(r.macs),
    r.flops === undefined ? '' : String(r.flops),
    r.activations === undefined ? '' : String(r.activations),
    ...(measured ? [times[i] === undefined ? '' : times[i]!.toFixed(3)] : []),
    r.reason ?? '',
  ]);
  // --grid values and reasons are the user's text: control characters escaped (shown), as in diagnostics.
  if (format === 'csv') return [head, ...cells].map((row) => row.map((c) => csvCell(shown(c))).join(',')).join('\n');
  // table: counts with SI suffixes, columns padded.
  const pretty = rows.map((r, i) => [
    ...paths.map((p) => r.settings[p] ?? ''),
    r.status,
    r.params === undefined ? '-' : formatCount(r.params),
    r.macs === undefined ? '-' : formatCount(r.macs),
    r.flops === undefined ? '-' : formatCount(r.flops),
    r.activations === undefined ? '-' : formatCount(r.activations),
    ...(measured ? [times[i] === undefined ? '-' : times[i]!.toFixed(2)] : []),
    r.reason ?? '',
  ]);
  for (const row of [head, ...pretty]) for (let c = 0; c < row.length; c++) row[c] = shown(row[c]);
  const widths = head.map((h, c) => pretty.reduce((w, row) => Math.max(w, row[c].length), h.length));
  const line = (row: string[]) => row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(head), ...pretty.map(line)].join('\n');
}

/** A kept variant as a file that extends the base: its name in the --emit folder and its text. */
function variantFile(file: string, dir: string, sets: string[], index: number, row: SweepRow): { name: string; text: string } {
  const parsed = parseFile(file, { sets, keepDocument: true });
  const doc = (parsed.document ?? {}) as Record<string, unknown>;
  const keys = [...new Set(Object.keys(row.settings).map((p) => p.split('.')[0]))];
  const body: Record<string, unknown> = { extends: relative(dir, resolve(file)).split('\\').join('/') };
  for (const k of keys) body[k] = doc[k];
  const name = `${basename(file).replace(/\.ya?ml$/i, '')}-${String(index).padStart(4, '0')}.yaml`;
  // The first line marks the file as skipgraph's (src/io/output_policy.ts); values escaped, so a
  // --grid value cannot end the comment line and start YAML of its own.
  const settings = Object.entries(row.settings).map(([p, v]) => `${p}=${v}`).join(' ');
  return { name, text: `# skipgraph sweep variant: ${shown(settings).replace(/\n/g, '\\n')}\n${stringify(body)}` };
}

/**
 * The --emit folder: the folder named (a link to a folder is the user's choice and is followed),
 * created when missing; anything else there (a file, a FIFO, a device) is refused.
 */
function emitFolder(emit: string): string {
  const dir = resolve(emit);
  let st;
  try {
    st = statSync(dir);
  } catch {
    makeFolders(dir); // one level at a time; a part that is a file, or /proc, is a clear error
    return dir;
  }
  if (!st.isDirectory()) throw new UserError(`--emit ${emit} is ${kindOf(st)}; --emit names a folder (the variant files are written inside it)`);
  return dir;
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('sweep')
    .description('compile variants of an architecture over a grid or a sample, keep those within complexity limits')
    .argument('<file>', 'architecture YAML file')
    .option('--grid <path=v1,v2,...>', 'an axis of the grid (repeatable; the variants are the cartesian product)', collect)
    .option('--range <path=lo..hi|a|b>', 'an axis to sample: an integer or decimal range, or a choice list (repeatable)', collect)
    .option('--sample <n>', 'draw n variants over the --range (and --grid) axes', parsePositiveInt('--sample'))
    .option('--seed <n>', 'seed of --sample', '0')
    .option('--set <path=value>', 'a fixed override for every variant (repeatable)', collect)
    .option('--max-macs <count>', 'reject variants above this many MACs, e.g. 4.5G')
    .option('--min-macs <count>', 'reject variants below this many MACs')
    .option('--max-params <count>', 'reject variants above this many trainable params, e.g. 25M')
    .option('--min-params <count>', 'reject variants below this many trainable params')
    .option('--max-activations <count>', "reject variants above this many activations (pycls's: conv and dense output elements)")
    .option('--min-activations <count>', 'reject variants below this many activations')
    .option('-f, --format <format>', `output: ${FORMATS.join(', ')}`, 'table')
    .option('--plot <file.svg>', 'draw MACs against params (or --measure time), the Pareto front marked')
    .option('--emit <dir>', 'write each kept variant as a YAML file that extends the base')
    .option('--force', 'replace --plot and the --emit files even when skipgraph did not write them (never an input, a link, a device or a FIFO)')
    .option('--measure', 'time a forward pass of each kept variant (batch 1) on the TF.js backend')
    .option('--backend <name>', 'backend for --measure: wasm, cpu, ...')
    .action(async (file: string, flags: SweepFlags) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`Unknown format "${flags.format}". Formats: ${FORMATS.join(', ')}.`);
      const seed = Number(flags.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed needs a whole number, not "${flags.seed}".`);
      const axes = axesOf(flags);
      const constraints = constraintsOf(flags);
      const t0 = performance.now();
      const rows = sweep(file, { axes, sample: flags.sample, seed, constraints, sets: flags.set });
      if ('error' in rows) {
        io.err(`error: ${shown(rows.error)}.`);
        return setExit(EXIT.input);
      }
      const seconds = (performance.now() - t0) / 1000;
      const times: (number | undefined)[] = rows.map(() => undefined);
      if (flags.measure) {
        const { measureForward } = await import('./sweep_measure.js');
        await measureForward(rows, times, flags.backend, io);
      }
      const paths = axes.map((a) => a.path);
      io.out(formatRows(rows, paths, flags.format, times));
      const kept = rows.filter((r) => r.status === 'ok');
      const summary = `${rows.length} variants in ${seconds.toFixed(2)} s: ${kept.length} kept, ${rows.filter((r) => r.status === 'rejected').length} rejected by limits, ${rows.filter((r) => r.status === 'error').length} failed`;
      io.err(summary);
      if (flags.sample !== undefined && rows.length < flags.sample) {
        io.err(`(--sample ${flags.sample}: the axes hold ${rows.length} distinct variant${rows.length === 1 ? '' : 's'}, each drawn once; a --grid lists them all)`);
      }
      // Every output is checked before any is written (the output policy: src/io/output_policy.ts).
      const inputs = sourceFiles(file, parseFile(file, { sets: flags.set }));
      const plot = flags.plot === undefined ? undefined : userInput(() => {
        makeFolders(dirname(resolve(flags.plot!)));
        return planOutput({ path: flags.plot!, flag: '--plot', kind: 'sweep-plot', force: flags.force, inputs });
      });
      let variants: { planned: PlannedOutput; text: string }[] = [];
      const dir = flags.emit === undefined ? undefined : userInput(() => emitFolder(flags.emit!));
      if (dir !== undefined) {
        variants = userInput(() =>
          rows.flatMap((r, i) => {
            if (r.status !== 'ok') return [];
            const v = variantFile(file, dir, [...(flags.set ?? []), ...Object.entries(r.settings).map(([p, x]) => `${p}=${x}`)], i, r);
            return [{ planned: planOutput({ path: join(dir, v.name), shown: join(flags.emit!, v.name), flag: '--emit', kind: 'sweep-variant', force: flags.force, inputs }), text: v.text }];
          }),
        );
      }
      if (plot !== undefined) {
        userInput(() => writeOutput(plot, `${SWEEP_PLOT_MARK}\n${formatPareto(rows, { y: flags.measure ? 'time' : 'params', times, title: basename(file) })}`));
        io.err(`plot: ${shown(flags.plot!)}`);
      }
      if (dir !== undefined) {
        for (const v of variants) userInput(() => writeOutput(v.planned, v.text));
        const n = variants.length;
        const rel = relative(dir, resolve(file));
        const hint = rel.startsWith('..') ? ` (their extends leaves ${shown(flags.emit!)}: compile them with --extends-root ${shown(relative(process.cwd(), commonAncestor(dir, dirname(resolve(file)))) || '.')})` : '';
        io.err(`emitted ${n} variant file${n === 1 ? '' : 's'} in ${shown(flags.emit!)}${hint}`);
      }
      setExit(EXIT.ok);
    });
}

function commonAncestor(a: string, b: string): string {
  const pa = a.split('/');
  const pb = b.split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join('/') || '/';
}
