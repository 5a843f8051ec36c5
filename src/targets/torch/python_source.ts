/**
 * Just enough of Python's lexical structure to read the Python this target writes and pastes
 * (python/skipgraph_torch_helpers.py and the emitted module): which names the code uses, and its
 * top-level statements. Written by hand because no Python parser runs in Node here; it only needs
 * comments, string literals (any prefix, triple-quoted or not), brackets and line starts, and
 * test/targets/torch/names.test.ts checks it against Python's own `tokenize` and `ast`.
 */

export interface Scan {
  /** Every name the code reads or binds: identifiers outside strings and comments, not after a `.` (keywords included). */
  names: Set<string>;
  /** Per line: whether it starts a new logical line (not inside a string or brackets, nor after a `\` continuation). */
  lineStarts: boolean[];
}

const STRING_PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])$/;

export function scanPython(code: string): Scan {
  const names = new Set<string>();
  const lineStarts = [true];
  let depth = 0;
  let continued = false;
  let lastSignificant = '';
  let i = 0;
  const newline = (inside: boolean) => lineStarts.push(!inside);
  while (i < code.length) {
    const c = code[i];
    if (c === '\n') {
      newline(depth > 0 || continued);
      continued = false;
      i++;
    } else if (c === '#') {
      while (i < code.length && code[i] !== '\n') i++;
    } else if (c === '\\' && code[i + 1] === '\n') {
      continued = true;
      i++;
    } else if (c === '"' || c === "'") {
      i = skipString(code, i, newline);
      lastSignificant = c;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < code.length && /[A-Za-z0-9_]/.test(code[j])) j++;
      const word = code.slice(i, j);
      if ((code[j] === '"' || code[j] === "'") && STRING_PREFIX.test(word)) {
        i = skipString(code, j, newline);
        lastSignificant = code[j];
        continue;
      }
      if (lastSignificant !== '.') names.add(word);
      lastSignificant = word;
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(code[i + 1] ?? ''))) {
      // A number: digits, letters (1e5, 0x1f, 2j), `_` and `.`, and an exponent's sign.
      i++;
      while (i < code.length && (/[A-Za-z0-9_.]/.test(code[i]) || (/[+-]/.test(code[i]) && /[eE]/.test(code[i - 1])))) i++;
      lastSignificant = '0';
    } else {
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
      if (!/\s/.test(c)) lastSignificant = c;
      i++;
    }
  }
  return { names, lineStarts };
}

/** The index just past the string literal whose opening quote is at `start`; `newline` hears each line end inside it. */
function skipString(code: string, start: number, newline: (inside: boolean) => void): number {
  const q = code[start];
  const triple = code.startsWith(q.repeat(3), start);
  const close = triple ? q.repeat(3) : q;
  let i = start + close.length;
  while (i < code.length) {
    if (code[i] === '\\') {
      if (code[i + 1] === '\n') newline(true);
      i += 2;
    } else if (code.startsWith(close, i)) {
      return i + close.length;
    } else {
      if (code[i] === '\n') {
        if (!triple) return i; // an unterminated one-line string ends at the line (Python would refuse it)
        newline(true);
      }
      i++;
    }
  }
  return i;
}

export type StatementKind = 'docstring' | 'import' | 'class' | 'def' | 'assign' | 'other';

export interface TopLevelStatement {
  kind: StatementKind;
  /** The names it binds at module level. */
  names: string[];
  /** Its text, without the blank and comment lines that follow it. */
  text: string;
  /** Its first line (0-based). */
  line: number;
}

/** The module's top-level statements, in order. */
export function topLevelStatements(code: string): TopLevelStatement[] {
  const lines = code.split('\n');
  const { lineStarts } = scanPython(code);
  const starts: number[] = [];
  lines.forEach((l, k) => {
    if (lineStarts[k] && /^[^\s#]/.test(l)) starts.push(k);
  });
  return starts.map((first, s) => {
    let last = (starts[s + 1] ?? lines.length) - 1;
    while (last > first && (lines[last].trim() === '' || (lineStarts[last] && /^\s*#/.test(lines[last])))) last--;
    const text = lines.slice(first, last + 1).join('\n');
    return { ...classify(text), text, line: first };
  });
}

function classify(text: string): { kind: StatementKind; names: string[] } {
  const flat = text.replace(/\\\n/g, ' ').replace(/[()]/g, ' ').replace(/\s+/g, ' ');
  let m: RegExpMatchArray | null;
  if (/^[rRuUbBfF]*["']/.test(text)) return { kind: 'docstring', names: [] };
  if ((m = /^from \S+ import (.*)$/.exec(flat))) return { kind: 'import', names: importNames(m[1], false) };
  if ((m = /^import (.*)$/.exec(flat))) return { kind: 'import', names: importNames(m[1], true) };
  if ((m = /^class ([A-Za-z_]\w*)/.exec(text))) return { kind: 'class', names: [m[1]] };
  if ((m = /^(?:async )?def ([A-Za-z_]\w*)/.exec(text))) return { kind: 'def', names: [m[1]] };
  if ((m = /^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)/.exec(text))) return { kind: 'assign', names: [m[1]] };
  return { kind: 'other', names: [] };
}

/** `a.b as c, d` binds c and d (`import a.b` binds a). */
function importNames(list: string, dotted: boolean): string[] {
  return list
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const alias = /\sas\s+([A-Za-z_]\w*)$/.exec(part);
      if (alias) return alias[1];
      return dotted ? part.split('.')[0] : part;
    });
}
