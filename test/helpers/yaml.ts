/** Small helpers shared by tests: a minimal valid architecture and "where is this text" lookups. */

export interface ArchParts {
  input?: string;
  stem?: string;
  stages?: string;
  head?: string;
  extra?: string;
  shortcut?: string;
  classes?: number;
}

/** A tiny valid architecture (CIFAR-sized), with parts replaced as given. Lines are stable:
 *  1 name, 2 input, 3 classes, 4 shortcut, 5 stem:, 6.. stem items, then stages:, head:. */
export function arch(p: ArchParts = {}): string {
  return [
    'name: tiny',
    `input: ${p.input ?? '{ height: 32, width: 32, channels: 3 }'}`,
    `classes: ${p.classes ?? 10}`,
    `shortcut: ${p.shortcut ?? 'projection'}`,
    'stem:',
    p.stem ?? '  - { op: conv, filters: 16, kernel: 3 }\n  - { op: bn }\n  - { op: relu }',
    'stages:',
    p.stages ?? '  - { block: basic, channels: 16, blocks: 1 }\n  - { block: basic, channels: 32, blocks: 1, stride: 2 }',
    'head:',
    p.head ?? '  - { op: global_avg_pool }\n  - { op: dense, units: $classes }',
    p.extra ?? '',
  ].join('\n');
}

/** 1-based line and column of the n-th (default first) occurrence of `needle` in `text`. */
export function at(text: string, needle: string, nth = 1): { line: number; col: number } {
  let i = -1;
  for (let k = 0; k < nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`"${needle}" not in text`);
  }
  const before = text.slice(0, i);
  const line = before.split('\n').length;
  return { line, col: i - before.lastIndexOf('\n') };
}
