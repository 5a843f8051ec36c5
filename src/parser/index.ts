import { closeSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ArchitectureAst } from './ast.js';
import { applySet, displayName, openChecked, readOpened, resolveExtends } from './compose.js';
import { DiagnosticBag, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { READ_LIMITS, readYaml } from './read.js';
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

export interface ParseOptions {
  /** The name diagnostics use for this text (and the base for relative `extends`). */
  file?: string;
  /** `--set path=value` overrides, applied after `extends`. */
  sets?: readonly string[];
  /** Folder that `extends` may not leave (default: the folder of `file`). */
  extendsRoot?: string;
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
  const path = absolute(opts.file ?? 'input.yaml');
  let root: LMap | undefined = resolveExtends(read.root, path, {
    bag,
    sources,
    root: absolute(opts.extendsRoot ?? dirname(path)),
    readFile: opts.readFile,
    cache: opts.readFile === undefined,
    chainBytes: typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength,
  }, realOrNone(path));
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

/** The real path of `path`, as a one-item chain; none when it does not exist (or no longer does). */
function realOrNone(path: string): string[] {
  try {
    return [realpathSync(path)];
  } catch {
    return [];
  }
}

/** `path` made absolute; as given when the working folder it is relative to was removed. */
function absolute(path: string): string {
  try {
    return resolve(path);
  } catch {
    return path;
  }
}

/** Parse a file from disk; a missing or unreadable file is a diagnostic, not an exception. */
export function parseFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): ParseResult {
  const file = displayName(absolute(path));
  const refuse = (code: 'file-not-found' | 'file-too-large', message: string, hint: string): ParseResult => {
    const bag = new DiagnosticBag();
    bag.error(code, message, { file, line: 0, col: 0, endLine: 0, endCol: 0, offset: -1, endOffset: -1 }, hint);
    return { diagnostics: bag.items, dropped: 0, sources: new Map(), bag, skipped: [] };
  };
  let bytes: Uint8Array;
  let fd: number | undefined;
  try {
    // Checked before reading: /dev/zero or a FIFO would never end, and a 1.5 GB file would be read whole.
    const st = statSync(path);
    if (st.isDirectory()) return refuse('file-not-found', `"${path}" is a folder, not a file.`, 'Check the path; architectures/ holds the shipped files.');
    if (!st.isFile()) return refuse('file-not-found', `"${path}" is not a regular file.`, 'Check the path; architectures/ holds the shipped files.');
    // Then opened once and read from what was opened (checked again there): a file replaced or
    // moved in between is a diagnostic, never an exception or a read of something else.
    const opened = openChecked(path);
    if ('problem' in opened) return refuse('file-not-found', opened.problem === 'not-a-file' ? `"${path}" is not a regular file.` : `Cannot read "${path}": it was moved or removed.`, 'Check the path; architectures/ holds the shipped files.');
    fd = opened.fd;
    if (opened.stat.size > READ_LIMITS.maxFileBytes) {
      return refuse('file-too-large', `The file is ${opened.stat.size.toLocaleString('en-US')} bytes; the limit is ${READ_LIMITS.maxFileBytes.toLocaleString('en-US')}.`, 'Architecture files are a few KB: check that this is the right file.');
    }
    bytes = readOpened(fd, opened.stat.size);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse('file-not-found', code === 'EISDIR' ? `"${path}" is a folder, not a file.` : `Cannot read "${path}" (${code ?? 'error'}).`, 'Check the path; architectures/ holds the shipped files.');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseArchitecture(bytes, { ...opts, file });
}
