import type { Command } from 'commander';
import { checkPicture, COLLAPSE_MODES, compileFile, PICTURE_LIMITS, formatDot, formatExplain, formatHtml, formatJson, formatMermaid, formatSvg, formatTable, type Collapse, type CompileResult, type Limits } from '../../compiler/files.js';
import { collect, EXIT, parseByteSize, parsePositiveInt, printCompileProblems, printDiagnostics, UsageError, type Io } from '../io.js';

/** Output formats of `compile`; each takes a compiled graph and returns text. */
export const FORMATS = ['table', 'json', 'dot', 'svg', 'html', 'mermaid'] as const;

/** The formats that draw the graph, and so can collapse stages. */
const PICTURES = ['svg', 'html', 'mermaid'];

export interface CompileFlags {
  depth?: 1 | 2;
  format: string;
  explain?: boolean;
  collapse?: string;
  set?: string[];
  extendsRoot?: string;
  maxBlocks?: number;
  maxNodes?: number;
  maxParams?: number;
  maxActivationBytes?: number;
  batch?: number;
}

function limitsOf(f: CompileFlags): Partial<Limits> {
  const l: Partial<Limits> = {};
  if (f.maxBlocks) l.maxBlocks = f.maxBlocks;
  if (f.maxNodes) l.maxNodes = f.maxNodes;
  if (f.maxParams) l.maxParams = f.maxParams;
  if (f.maxActivationBytes) l.maxActivationBytes = f.maxActivationBytes;
  return l;
}

/** Shared by compile and check: parse, validate, compile; print diagnostics; undefined on errors. */
export function compileForCli(file: string, f: CompileFlags, io: Io): CompileResult {
  const r = compileFile(file, { sets: f.set, extendsRoot: f.extendsRoot, limits: limitsOf(f), batch: f.batch });
  printCompileProblems(io, r);
  return r;
}

/**
 * The files a compile read: the architecture and every `extends` file (not the --set texts).
 * A command's outputs may never be written over them (src/io/output_policy.ts).
 */
export function sourceFiles(file: string, r: Pick<CompileResult, 'sources'>): string[] {
  return [file, ...[...r.sources.keys()].filter((k) => !k.startsWith('--set'))];
}

export function addCompileOptions(cmd: Command): Command {
  return cmd
    .option('--set <path=value>', 'override a value, e.g. stages.2.blocks=6 (repeatable)', collect)
    .option('--extends-root <dir>', 'folder that `extends` may not leave (default: the file\'s folder)')
    .option('--max-blocks <n>', 'limit on blocks after expansion (default 20,000)', parsePositiveInt('--max-blocks'))
    .option('--max-nodes <n>', 'limit on graph nodes (default 400,000)', parsePositiveInt('--max-nodes'))
    .option('--max-params <n>', 'limit on parameters (default 1,000,000,000)', parsePositiveInt('--max-params'))
    .option('--max-activation-bytes <size>', 'limit on forward activation memory for a batch, e.g. 32GiB (default 16GiB)', parseByteSize('--max-activation-bytes'))
    .option('--batch <n>', 'batch size the activation-memory estimate assumes (default 32)', parsePositiveInt('--batch'));
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  addCompileOptions(
    program
      .command('compile')
      .description('compile an architecture and print its graph: every node, shape, params and MACs')
      .argument('<file>', 'architecture YAML file')
      .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
      .option('--depth <n>', 'table rows per stage (1) or per block (2), with subtotals, as torchinfo\'s depth')
      .option('--explain', 'print only the nodes shortcut rules inserted, and why (with another --format: the output, and the explanation on stderr)')
      .option('--collapse <what>', `draw each stage as one box (svg, html, mermaid): ${COLLAPSE_MODES.join(', ')} (default: stages above ${PICTURE_LIMITS.maxNodes} nodes)`),
  ).action((file: string, flags: CompileFlags) => {
    if (!(FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`Unknown format "${flags.format}". Formats: ${FORMATS.join(', ')}.`);
    if (flags.depth !== undefined) {
      const d = Number(flags.depth);
      if (d !== 1 && d !== 2) throw new UsageError(`--depth takes 1 (stages) or 2 (blocks), not "${flags.depth}".`);
      if (flags.format !== 'table') throw new UsageError('--depth works with --format table.');
      flags.depth = d;
    }
    if (flags.collapse !== undefined && !(COLLAPSE_MODES as readonly string[]).includes(flags.collapse)) throw new UsageError(`Unknown --collapse "${flags.collapse}". Choices: ${COLLAPSE_MODES.join(', ')}.`);
    if (flags.collapse !== undefined && !PICTURES.includes(flags.format)) throw new UsageError(`--collapse works with --format ${PICTURES.join(', ')}, not ${flags.format}.`);
    const r = compileForCli(file, flags, io);
    if (!r.graph) return setExit(EXIT.input);
    const g = r.graph;
    const collapse = flags.collapse as Collapse | undefined;
    // Pictures have a size limit (dagre's layout); past it, a located error instead of a hang or a crash.
    const refusal = flags.format === 'svg' || flags.format === 'html' ? checkPicture(g, collapse) : undefined;
    if (refusal) {
      printDiagnostics(io, [refusal], r.sources, 0);
      return setExit(EXIT.input);
    }
    const text =
      flags.format === 'json' ? formatJson(g)
      : flags.format === 'dot' ? formatDot(g)
      : flags.format === 'svg' ? formatSvg(g, { collapse })
      : flags.format === 'html' ? formatHtml(g, { collapse, description: r.ast?.description })
      : flags.format === 'mermaid' ? formatMermaid(g, { collapse })
      : formatTable(g, { color: io.color, depth: flags.depth });
    // --explain alone prints the explanation alone; with another format the explanation goes to
    // stderr, so stdout stays parseable.
    if (flags.explain && flags.format === 'table') io.out(formatExplain(g));
    else {
      io.out(text);
      if (flags.explain) io.err(formatExplain(g));
    }
    setExit(EXIT.ok);
  });
}
