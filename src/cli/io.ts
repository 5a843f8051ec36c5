import { writeSync } from 'node:fs';
import { formatSkipped, type CompileResult } from '../compiler/index.js';
import { escapeControl, formatDiagnostics, type Diagnostic } from '../parser/index.js';

/**
 * A name or value from the user (an --out path, a --grid value, a file name) made safe to echo:
 * control characters become visible escapes, exactly as in diagnostics (escapeControl). Every
 * message and echo of user-given text goes through this one function.
 */
export const shown = (s: string): string => escapeControl(s);

/**
 * Exit codes: 0 ok, 1 the input is wrong (a file, a flag's value, a full disk), 2 the command line
 * is wrong, 70 a bug in skipgraph ("internal error, please report"; EX_SOFTWARE).
 */
export const EXIT = { ok: 0, input: 1, usage: 2, internal: 70 } as const;

/** Thrown by commands for a wrong command line (exit 2), caught in main. */
export class UsageError extends Error {}

/** Thrown by commands for wrong input (exit 1) whose message was already printed or is printed by main. */
export class InputError extends Error {}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Colours on stderr/stdout when they are terminals and NO_COLOR is unset. */
  color: boolean;
}

export const processIo = (): Io => ({
  out: (s) => writeOrStop(process.stdout, 1, s.endsWith('\n') ? s : s + '\n'),
  err: (s) => writeOrStop(process.stderr, 2, s.endsWith('\n') ? s : s + '\n'),
  color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
});

/**
 * Writes to stdout or stderr at once (as Node does for files, pipes and terminals on Linux), so a
 * reader that went away is known at this write: the command stops here, exit 0, before it prints
 * anything more (a stream's own 'error' event comes a tick later, after the next lines).
 */
function writeOrStop(stream: NodeJS.WriteStream, fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text);
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (e) {
    if (isClosedPipe(e)) {
      // Stop, unless a command replaced the stop with its own handling (the playground's server
      // outlives its reader): then what was for the reader is dropped.
      const handlers = stream.listeners('error');
      if (handlers.includes(quitOnClosedPipe)) process.exit(EXIT.ok);
      if (handlers.length > 0) return;
      throw e;
    }
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') stream.write(bytes.subarray(at)); // a non-blocking descriptor: let the stream queue it
    else throw e;
  }
}

/** Whether an error is a closed pipe on stdout or stderr (`skipgraph ... | head -1`). */
export const isClosedPipe = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === 'EPIPE';

/**
 * When the reader of stdout or stderr goes away (`| head -1`), the command stops quietly: exit 0,
 * nothing printed (there is no one to print to), as `cat` and `grep` do. Installed once for the
 * process by bin/skipgraph.js. Without it the write's EPIPE was an uncaught error: exit 70.
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', quitOnClosedPipe);
  process.stderr.on('error', quitOnClosedPipe);
}

function quitOnClosedPipe(e: unknown): void {
  if (!isClosedPipe(e)) throw e;
  process.exit(EXIT.ok);
}

/** Prints diagnostics to stderr with source lines and carets, plus a one-line count. */
export function printDiagnostics(io: Io, diagnostics: Diagnostic[], sources: Map<string, string>, dropped = 0): void {
  if (diagnostics.length === 0) return;
  io.err(formatDiagnostics(diagnostics, { sources, color: io.color }, dropped));
  const errors = diagnostics.filter((d) => d.severity === 'error').length + dropped;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const w = warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '';
  io.err(`\n${errors || !w ? `${errors} error${errors === 1 ? '' : 's'}${w ? `, ${w}` : ''}` : w}.`);
}

/**
 * What compile and check print for a file's problems: its diagnostics, the count line, and the
 * checks that had to wait. docs/tutorial.md's error blocks are made by this function too.
 */
export function printCompileProblems(io: Io, r: Pick<CompileResult, 'diagnostics' | 'sources' | 'dropped' | 'skipped'>): void {
  printDiagnostics(io, r.diagnostics, r.sources, r.dropped);
  const skipped = formatSkipped(r.skipped);
  if (skipped) io.err(skipped);
}

/** `--set` may repeat: commander collects it with this. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

export function parsePositiveInt(flag: string) {
  return (v: string) => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} needs a positive whole number, not "${v}".`);
    return n;
  };
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 1e3, kib: 2 ** 10, m: 2 ** 20, mb: 1e6, mib: 2 ** 20, g: 2 ** 30, gb: 1e9, gib: 2 ** 30, t: 2 ** 40, tb: 1e12, tib: 2 ** 40 };

/** A byte count: `17179869184`, `16GiB`, `512MiB`, `1.5 GB` (K/M/G/T alone are binary). */
export function parseByteSize(flag: string) {
  return (v: string) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v.replace(/_/g, ''));
    const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
    const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} needs a size in bytes such as 17179869184, 16GiB or 512MiB, not "${v}".`);
    return n;
  };
}
