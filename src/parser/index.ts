/**
 * The parser's pure entry: YAML text -> extends -> --set -> schema -> located AST. It opens no
 * file and imports nothing that does (test/layout.test.ts), so it runs in a browser: `extends`
 * reads through the `files` host the caller passes (host.ts). The Node entry, files.ts, adds
 * parseFile, the shipped models and the disk as that host.
 */
import type { ArchitectureAst } from './ast.js';
import { applySet, resolveExtends } from './compose.js';
import { NO_FILES, type FileHost } from './host.js';
import { DiagnosticBag, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { readYaml, utf8Length } from './read.js';
import { validateTree, type SchemaFailure } from './schema.js';
import { recoverTree } from './recover.js';
import { checkNames } from './names.js';
import { buildAst } from './build.js';
import { toPlain, type LMap } from './tree.js';

export * from './ast.js';
export type { DiagnosticCode, Severity } from './codes.js';
export { DiagnosticBag, escapeControl, InternalError, sortDiagnostics, formatDiagnostic, formatDiagnostics, MAX_DIAGNOSTICS, type Diagnostic, type FormatOptions } from './diagnostics.js';
export { evaluate, exprParams, makeDivisible, parseExpr, type EvalError, type Expr } from './expr.js';
export { formatLoc, syntheticLoc, type Loc } from './location.js';
export { architectureSchema, isLayerOp, LAYER_OPS, prettyPath, type LayerOp } from './schema.js';
export { closest, didYouMean } from './suggest.js';
export { READ_LIMITS } from './read.js';
export { NO_FILES, POSIX_PATHS, type FileHost, type OpenedFile, type OpenProblem } from './host.js';

export interface ParseOptions {
  /** The name diagnostics use for this text (and the base for relative `extends`). */
  file?: string;
  /** `--set path=value` overrides, applied after `extends`. */
  sets?: readonly string[];
  /** Folder that `extends` may not leave (default: the folder of `file`). */
  extendsRoot?: string;
  /**
   * Where `extends` opens its bases and how file names are shown: none by default here (this entry
   * opens no file, so it runs in a browser); the disk with files.ts's `diskFiles`, which the Node
   * entry (files.ts: parseArchitecture, parseFile) passes.
   */
  files?: FileHost;
  /** File reader for `extends` (tests swap it). */
  readFile?: (path: string) => Uint8Array;
  /** Keep the composed document (after extends and --set) as plain data in `document`. */
  keepDocument?: boolean;
}

export interface ParseResult {
  ast?: ArchitectureAst;
  diagnostics: Diagnostic[];
  /** Errors past the cap that were not kept. */
  dropped: number;
  /** The text of every file read and every --set, by diagnostic file name. */
  sources: Map<string, string>;
  /** The bag, so the compiler can keep collecting into it. */
  bag: DiagnosticBag;
  /** With keepDocument: the composed document as plain data (what `extends` and --set made). */
  document?: unknown;
  /**
   * The AST built despite errors (schema errors' parts replaced by stand-ins, see `partial` on it),
   * so the compiler can report its own errors in the same run; never compiled into a graph.
   */
  partial?: ArchitectureAst;
  /** Checks that could not run because of these errors, for the one line that says so. */
  skipped: string[];
}

/** Parse one architecture from text or bytes: YAML -> extends -> --set -> schema -> typed AST. */
export function parseArchitecture(input: string | Uint8Array, opts: ParseOptions = {}): ParseResult {
  const bag = new DiagnosticBag();
  const file = opts.file ?? '<input>';
  const sources = new Map<string, string>();
  const skipped: string[] = [];
  const done = (ast?: ArchitectureAst): ParseResult => {
    sortDiagnostics(bag, [...sources.keys()]);
    const bad = bag.hasErrors;
    if (bad && !ast && skipped.length === 0) skipped.push('the schema and compile checks, which need the file read (and composed) first');
    return { ast: bad ? undefined : ast, partial: bad ? ast : undefined, diagnostics: bag.items, dropped: bag.dropped, sources, bag, skipped };
  };
  const read = readYaml(input, file, bag);
  sources.set(file, read.source.text);
  if (!read.root) return done();
  if (read.root.kind !== 'map') {
    validateTree(read.root, bag); // reports not-a-mapping at the right place
    return done();
  }
  const files = opts.files ?? NO_FILES;
  const path = files.absolute(opts.file ?? 'input.yaml');
  let root: LMap | undefined = resolveExtends(read.root, path, {
    bag,
    sources,
    files,
    root: files.absolute(opts.extendsRoot ?? files.dirname(path)),
    readFile: opts.readFile,
    cache: opts.readFile === undefined,
    chainBytes: typeof input === 'string' ? utf8Length(input) : input.byteLength,
  }, files.realOrNone(path));
  if (!root) return done();
  (opts.sets ?? []).forEach((s, i) => applySet(root!, s, i, { bag, sources }));
  if (bag.hasErrors) return done();
  const failures: SchemaFailure[] = [];
  if (!validateTree(root, bag, failures)) {
    // Schema errors: what they leave intact is still checked, in this same run (recover.ts).
    const recovered = recoverTree(root, failures);
    if ('skipped' in recovered) {
      skipped.push(recovered.skipped);
      return done();
    }
    checkNames(recovered.root, bag);
    return done(buildAst(recovered.root, file, bag, recovered.parts));
  }
  checkNames(root, bag);
  if (bag.hasErrors) return done();
  const result = done(buildAst(root, file, bag));
  if (opts.keepDocument) result.document = toPlain(root);
  return result;
}
