import type { DiagnosticCode, Severity } from './codes.js';
import { formatLoc, type Loc } from './location.js';

/** The one error type of skipgraph: user errors are collected as these, never thrown one by one. */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  loc: Loc;
  /** What the user can do about it ("Did you mean ...?", "use shortcut: projection"). */
  hint?: string;
  /** Other places worth showing (the block that caused a mismatch, the other file of a cycle). */
  related?: { message: string; loc: Loc }[];
}

/** Most errors a file reports; past this, one line says how many more were dropped. */
export const MAX_DIAGNOSTICS = 50;

/** Collects diagnostics in order, capped, so one bad file cannot flood the terminal. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  dropped = 0;

  add(d: Diagnostic): void {
    if (this.items.length >= MAX_DIAGNOSTICS) {
      this.dropped++;
      return;
    }
    // The same error at the same place twice (a shared YAML node reached twice) says nothing new.
    if (this.items.some((x) => x.code === d.code && x.loc.offset === d.loc.offset && x.loc.file === d.loc.file && x.message === d.message)) return;
    this.items.push(d);
  }

  error(code: DiagnosticCode, message: string, loc: Loc, hint?: string): void {
    this.add({ code, severity: 'error', message, loc, hint });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

/** Orders diagnostics as a reader meets them: by file (in the order given), then by position. */
export function sortDiagnostics(bag: DiagnosticBag, fileOrder: readonly string[]): void {
  const rank = (f: string) => {
    const i = fileOrder.indexOf(f);
    return i < 0 ? fileOrder.length : i;
  };
  bag.items.sort((a, b) => rank(a.loc.file) - rank(b.loc.file) || a.loc.offset - b.loc.offset);
}

/** Thrown only for broken internal invariants: one class for every layer (src/errors). */
export { InternalError } from '../errors/index.js';

export interface FormatOptions {
  /** The text of each file, by name, to show the source line and caret. */
  sources?: ReadonlyMap<string, string>;
  color?: boolean;
}

const paint = (on: boolean | undefined, code: number, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/**
 * Characters a terminal acts on instead of printing: C0 controls but the line break, DEL, C1
 * controls, and the bidirectional overrides ("Trojan Source"). A quoted YAML key or name can hold
 * any of them ("\e]0;TITLE\a" retitled the terminal).
 */
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made safe to print: each unprintable character becomes a visible escape (`\x1b`, `\u202e`);
 * everything else is left as it is. Every diagnostic goes through here before it is printed.
 */
export function escapeControl(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/**
 * `file:line:col: error[code]: message`, then the source line and a caret under the place,
 * then the hint. This is what the CLI prints and what users paste into bug reports.
 */
export function formatDiagnostic(d: Diagnostic, opts: FormatOptions = {}): string {
  const c = opts.color;
  // Escaped before painting: the only escape sequences printed are skipgraph's own colours.
  const e = escapeControl;
  const lines = [`${paint(c, 1, e(formatLoc(d.loc)))}: ${paint(c, d.severity === 'error' ? 31 : 33, `${d.severity}[${e(d.code)}]`)}: ${e(d.message)}`];
  for (const l of sourceExcerpt(d.loc, opts.sources?.get(d.loc.file), c)) lines.push(l);
  for (const r of d.related ?? []) {
    lines.push(`  ${paint(c, 36, 'note')}: ${e(r.message)} (${e(formatLoc(r.loc))})`);
  }
  if (d.hint) lines.push(`  ${paint(c, 32, 'hint')}: ${e(d.hint)}`);
  return lines.join('\n');
}

export function formatDiagnostics(ds: readonly Diagnostic[], opts: FormatOptions = {}, dropped = 0): string {
  const out = ds.map((d) => formatDiagnostic(d, opts));
  if (dropped > 0) out.push(`... and ${dropped} more error(s) not shown`);
  return out.join('\n\n');
}

/** The source line of a location with a caret (or a run of carets) under the span. */
export function sourceExcerpt(loc: Loc, text: string | undefined, color?: boolean): string[] {
  if (text === undefined || loc.line < 1) return [];
  const lineText = nthLine(text, loc.line);
  if (lineText === undefined) return [];
  // Keep pathological lines (a 10 MB single-line file) readable.
  const shown = lineText.length > 200 ? lineText.slice(Math.max(0, loc.col - 80), loc.col + 120) : lineText;
  const shift = lineText.length > 200 ? Math.max(0, loc.col - 80) : 0;
  // One character for one (the caret stays under its place): tabs become spaces, anything a
  // terminal would act on becomes "?".
  const printable = shown.replace(/\t/g, ' ').replace(UNPRINTABLE, '?');
  const width = loc.endLine === loc.line ? Math.max(1, Math.min(loc.endCol - loc.col, printable.length - (loc.col - 1 - shift))) : 1;
  const gutter = String(loc.line);
  const pad = ' '.repeat(gutter.length);
  return [
    `  ${pad} |`,
    `  ${gutter} | ${printable}`,
    `  ${pad} | ${' '.repeat(Math.max(0, loc.col - 1 - shift))}${paint(color, 31, '^'.repeat(Math.max(1, width)))}`,
  ];
}

function nthLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? undefined : end).replace(/\r$/, '');
}
