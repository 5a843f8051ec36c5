import { LineCounter } from 'yaml';
import type { Loc } from './location.js';

/** A file's text plus a line index, to turn offsets into line:column. */
export class SourceFile {
  readonly lines = new LineCounter();

  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    // LineCounter is filled by the YAML lexer; fill it ourselves so it works before and without it.
    this.lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lines.addNewLine(i + 1);
  }

  /** The location of [start, end) in this file. */
  loc(start: number, end = start + 1): Loc {
    const a = this.lines.linePos(Math.max(0, Math.min(start, this.text.length)));
    const b = this.lines.linePos(Math.max(0, Math.min(end, this.text.length)));
    return { file: this.name, line: a.line, col: a.col, endLine: b.line, endCol: b.col, offset: start, endOffset: end };
  }
}
