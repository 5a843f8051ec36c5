/** A place in a source file. Lines and columns are 1-based, as editors show them. */
export interface Loc {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  /** 0-based character offsets into the file text; -1 when the place is synthetic. */
  offset: number;
  endOffset: number;
}

/** A location for things that have no place in a file (built-in defaults, internal nodes). */
export function syntheticLoc(file = '<built-in>'): Loc {
  return { file, line: 0, col: 0, endLine: 0, endCol: 0, offset: -1, endOffset: -1 };
}

export function formatLoc(loc: Loc): string {
  return loc.line > 0 ? `${loc.file}:${loc.line}:${loc.col}` : loc.file;
}
