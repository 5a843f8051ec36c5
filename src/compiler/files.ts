/**
 * The compiler's Node entry: everything index.ts exports, with files read from the disk (the
 * parser's files.ts): `compileSource` whose `extends` opens its bases there, `compileFile`, and
 * `sweep` over a file. index.ts opens no file (it runs in a browser: the playground); Node callers
 * (the CLI, the package's main entry, tests, bench) import this. No node:* import here either:
 * the disk is reached through src/parser/files.ts alone.
 */
import { diskFiles, nameBeside, parseArchitecture, parseFile, type ParseResult } from '../parser/files.js';
import { compileAst } from './compile.js';
import { compileParsed, compileSource as compileText, type CompileOptions, type CompileResult } from './index.js';
import { activations, variants, violation, type SweepOptions, type SweepRow } from './sweep.js';

export * from './index.js';

/** Compile YAML text (or bytes), its `extends` bases read from the disk. Never throws for bad input. */
export function compileSource(input: string | Uint8Array, opts: CompileOptions = {}): CompileResult {
  return compileText(input, { ...opts, files: opts.files ?? diskFiles });
}

/** Compile a YAML file from disk (or a shipped model by name). */
export function compileFile(path: string, opts: Omit<CompileOptions, 'file'> = {}): CompileResult {
  return compileParsed(parseFile(path, opts), opts);
}

/**
 * Compiles every variant of `file`. Rows come in the order of the variants; `onRow` sees each
 * as it is done (for progress). Never throws for a bad variant.
 */
export function sweep(file: string, opts: SweepOptions, onRow?: (row: SweepRow, index: number, total: number) => void): SweepRow[] | { error: string } {
  const settings = variants(opts);
  if ('error' in settings) return settings;
  // The file itself first: a missing, unreadable or non-regular file fails every variant alike.
  const base = parseFile(file).diagnostics.find((d) => d.code === 'file-not-found' || d.code === 'file-too-large');
  if (base) return { error: `${file}: ${base.message}` };
  const rows: SweepRow[] = [];
  settings.forEach((s, i) => {
    const sets = [...(opts.sets ?? []), ...Object.entries(s).map(([p, v]) => `${p}=${v}`)];
    const parsed = parseVariant(file, sets);
    const graph = parsed.ast ? compileAst(parsed.ast, parsed.bag, { limits: opts.limits }) : undefined;
    let row: SweepRow;
    const first = parsed.bag.items.find((d) => d.severity === 'error');
    if (!graph || first) {
      row = { settings: s, status: 'error', reason: first ? `${first.code}: ${first.message}` : 'does not compile', diagnostics: parsed.bag.items };
    } else {
      graph.file = file; // not the stub that extends it
      row = { settings: s, status: 'ok', params: graph.totals.trainableParams, macs: graph.totals.macs, flops: 2 * graph.totals.macs, activations: activations(graph), graph };
      const why = violation(row, opts.constraints ?? []);
      if (why) Object.assign(row, { status: 'rejected', reason: why });
    }
    rows.push(row);
    onRow?.(row, i, settings.length);
  });
  return rows;
}

/**
 * One variant: the file, parsed through a one-line document that extends it, so the file's own
 * tree comes from the parser's cache of `extends` bases (reused while the file is unchanged)
 * instead of being parsed again for every variant. Every located error still points at the file.
 */
function parseVariant(file: string, sets: string[]): ParseResult {
  const { name, beside } = nameBeside(file, '.skipgraph-sweep-of-');
  return parseArchitecture(`extends: ${JSON.stringify(name)}\n`, { file: beside, sets });
}

