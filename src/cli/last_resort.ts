/**
 * The command line's last resort: whatever escapes a command is reported in a few lines, never as
 * a stack trace. Skipgraph's user errors and file-system errors (a full disk, a read-only folder)
 * are the user's to fix (exit 1); anything else is a bug: "internal error, please report", with
 * the command line, and the stack only when SKIPGRAPH_DEBUG=1. bin/skipgraph.js also routes
 * uncaught exceptions and unhandled rejections here, ahead of the handler TF.js's wasm glue
 * (Emscripten) installs, which rethrows them (exit 7 with a trace).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors/index.js';
import { fileSystemMessage } from '../io/out_dir.js';
import { EXIT, InputError, processIo, UsageError, type Io } from './io.js';

/** Control characters as escapes, so a message can never drive the terminal. */
const printable = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const shellWord = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

let version = '?';
try {
  version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
} catch {
  // reported as '?'
}

/** The text printed for a bug in skipgraph (no stack unless SKIPGRAPH_DEBUG=1). */
export function internalErrorText(err: unknown, argv: readonly string[], debug = process.env.SKIPGRAPH_DEBUG === '1'): string {
  const name = err instanceof Error ? err.name : typeof err;
  const message = printable((err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 500));
  const lines = [
    `internal error, please report: ${name}: ${message}`,
    `  command: ${printable(['skipgraph', ...argv.slice(2)].map(shellWord).join(' '))}`,
    `  skipgraph ${version}, node ${process.version}, ${process.platform}-${process.arch}`,
  ];
  if (debug && err instanceof Error && err.stack) lines.push(err.stack);
  else lines.push('  (run it again with SKIPGRAPH_DEBUG=1 to see where it happened)');
  return lines.join('\n');
}

/** Reports an error that escaped a command; returns the exit code. */
export function reportUnexpected(err: unknown, argv: readonly string[], io: Io): number {
  if (err instanceof UsageError) {
    io.err(`error: ${printable(err.message)}`);
    return EXIT.usage;
  }
  if (err instanceof UserError || err instanceof InputError) {
    if (err.message) io.err(`error: ${printable(err.message)}`);
    return EXIT.input;
  }
  const fs = fileSystemMessage(err);
  if (fs !== undefined) {
    io.err(`error: ${printable(fs)}`);
    return EXIT.input;
  }
  io.err(internalErrorText(err, argv));
  return EXIT.internal;
}

/**
 * Routes uncaught exceptions and unhandled rejections to reportUnexpected and exits with its
 * code. Prepended, so it runs before (and instead of) any handler a library adds later.
 */
export function installLastResort(argv: readonly string[] = process.argv): void {
  let reporting = false;
  const handler = (err: unknown) => {
    if (!reporting) {
      reporting = true;
      try {
        process.exitCode = reportUnexpected(err, argv, processIo());
      } catch {
        process.exitCode = EXIT.internal;
      }
    }
    process.exit();
  };
  process.prependListener('uncaughtException', handler);
  process.prependListener('unhandledRejection', handler);
}
