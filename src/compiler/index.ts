/**
 * The compiler's pure entry: compileSource and everything a caller of the compiled graph needs.
 * It opens no file and imports nothing that does (test/layout.test.ts), so it runs in a browser:
 * `extends` reads through the `files` host the caller passes. The Node entry, files.ts, adds
 * compileFile, sweep, and compileSource reading `extends` from the disk.
 */
import { parseArchitecture, sortDiagnostics, syntheticLoc, type ArchitectureAst, type Diagnostic, type ParseOptions, type ParseResult } from '../parser/index.js';
import { compileAst } from './compile.js';
import type { Limits } from './limits.js';
import type { CompiledGraph } from './types.js';

export * from './types.js';
export { compileAst, stageName } from './compile.js';
export { outputNodes, requireClassifier } from './features.js';
export { DEFAULT_BATCH, DEFAULT_LIMITS, formatBytes, LIMIT_FLAGS, type Limits } from './limits.js';
export { bottleneckWidth, EXPANSION } from './blocks.js';
export { convOut, inferShape, poolOutCeil } from './shapes.js';
export { countMacs, countParams, nodeActivations, trainingMemory, type TrainingMemory } from './count.js';
export { activations, formatCount, paretoFront, parseAxis, parseCount, variants, type Axis, type Constraint, type SweepFigure, type SweepOptions, type SweepRow } from './sweep.js';
export { expandDesigns, makeDivisible, regnetStages, roundHalfEven, type RegNetStage } from './regnet.js';
export { nodeAs, opDef, OP_KINDS, OPS, unreachableOp, type Target } from './ops.js';

export interface CompileOptions extends ParseOptions {
  limits?: Partial<Limits>;
  /** Batch size for the activation-memory estimate (default DEFAULT_BATCH, 32). */
  batch?: number;
}

export interface CompileResult {
  graph?: CompiledGraph;
  ast?: ArchitectureAst;
  diagnostics: Diagnostic[];
  dropped: number;
  /** Texts of every file and --set read, for printing diagnostics with their source lines. */
  sources: Map<string, string>;
  /** Checks that could not run because of the errors reported (the CLI prints them in one line). */
  skipped: string[];
}

/**
 * A problem found in a base file says how the compiled file reached it: "reached through
 * resnet152.yaml -> resnet50.yaml -> resnet18.yaml", pointing at the compiled file's `extends`
 * line (issue 25: a limit error named resnet18.yaml alone when resnet152.yaml was compiled).
 * `sources` lists the compiled file first, then each base in the order `extends` reached it.
 */
function noteExtendsPath(items: Diagnostic[], sources: ReadonlyMap<string, string>): void {
  const files = [...sources.keys()].filter((f) => !f.startsWith('--set'));
  if (files.length < 2) return;
  const root = files[0];
  const text = sources.get(root) ?? '';
  const m = /^extends:/m.exec(text);
  const line = m ? text.slice(0, m.index).split('\n').length : 1;
  const at = { file: root, line, col: 1, endLine: line, endCol: 1 + 'extends'.length, offset: m?.index ?? -1, endOffset: m ? m.index + 'extends'.length : -1 };
  for (const d of items) {
    const i = files.indexOf(d.loc.file);
    if (i < 1) continue;
    (d.related ??= []).push({ message: `reached through ${files.slice(0, i + 1).join(' -> ')} (extends)`, loc: at });
  }
}

/** Compiles what the parser returned (the Node entry, files.ts, parses files with it). */
export function compileParsed(parsed: ParseResult, opts: CompileOptions): CompileResult {
  // API misuse reported like bad input (the CLI's --batch is checked by its parser): batch 0 made
  // the activation estimate 0 bytes, which silently turned the memory check off.
  if (opts.batch !== undefined && !(Number.isSafeInteger(opts.batch) && opts.batch >= 1)) {
    parsed.bag.error('out-of-range', `CompileOptions.batch must be a whole number >= 1, not ${String(opts.batch)}.`, syntheticLoc('<options>'), 'Leave it out for the default (32), or pass the batch size the model will run with.');
  }
  const skipped = [...parsed.skipped];
  // With errors already, the AST the parser could still build is compiled too, for its errors only.
  const ast = parsed.ast ?? parsed.partial;
  const graph = ast ? compileAst(ast, parsed.bag, { limits: opts.limits, batch: opts.batch, sets: opts.sets, skipped }) : undefined;
  noteExtendsPath(parsed.bag.items, parsed.sources);
  sortDiagnostics(parsed.bag, [...parsed.sources.keys()]);
  return { graph: parsed.bag.hasErrors ? undefined : graph, ast: parsed.ast, diagnostics: parsed.bag.items, dropped: parsed.bag.dropped, sources: parsed.sources, skipped: parsed.bag.hasErrors ? skipped : [] };
}

/** `3 more checks skipped until these are fixed: ...`, or undefined when nothing was skipped. */
export function formatSkipped(skipped: readonly string[]): string | undefined {
  if (skipped.length === 0) return undefined;
  return `${skipped.length} more check${skipped.length === 1 ? '' : 's'} skipped until these are fixed: ${skipped.join('; ')}.`;
}

/**
 * Compile YAML text (or bytes). Never throws for bad input: look at `diagnostics`. Opens no file:
 * `extends` reads through `opts.files` (none by default here; files.ts, the Node entry, reads the disk).
 */
export function compileSource(input: string | Uint8Array, opts: CompileOptions = {}): CompileResult {
  return compileParsed(parseArchitecture(input, opts), opts);
}

export * from './printers/index.js';
