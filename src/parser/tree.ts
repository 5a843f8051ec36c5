import type { Loc } from './location.js';

/**
 * The YAML document as a tree of plain values that remember where they came from. Files joined by
 * `extends` and values given by `--set` keep their own file names, so every diagnostic points at
 * the text the user wrote.
 */
export type LNode = LScalar | LMap | LSeq;

export interface LScalar {
  kind: 'scalar';
  value: string | number | boolean | null;
  loc: Loc;
}

export interface LEntry {
  key: string;
  keyLoc: Loc;
  value: LNode;
}

export interface LMap {
  kind: 'map';
  /** Entries in source order; keys are unique (duplicates are reported while reading). */
  entries: LEntry[];
  loc: Loc;
}

export interface LSeq {
  kind: 'seq';
  items: LNode[];
  loc: Loc;
}

export function getEntry(map: LMap, key: string): LEntry | undefined {
  return map.entries.find((e) => e.key === key);
}

export function get(map: LMap, key: string): LNode | undefined {
  return getEntry(map, key)?.value;
}

/**
 * Plain JSON for the schema validator. Objects are created without a prototype, and the keys
 * `__proto__`, `constructor` and `prototype` never get this far (the reader refuses them).
 */
export function toPlain(node: LNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = Object.create(null);
      for (const e of node.entries) out[e.key] = toPlain(e.value);
      return out;
    }
  }
}

/** Follows a JSON-pointer-like list of segments to a node; also returns the last map entry passed. */
export function nodeAt(root: LNode, path: readonly string[]): { node?: LNode; entry?: LEntry; parent?: LNode } {
  let node: LNode | undefined = root;
  let entry: LEntry | undefined;
  let parent: LNode | undefined;
  for (const seg of path) {
    if (!node) break;
    parent = node;
    if (node.kind === 'map') {
      entry = getEntry(node, seg);
      node = entry?.value;
    } else if (node.kind === 'seq') {
      node = node.items[Number(seg)];
      entry = undefined;
    } else {
      node = undefined;
    }
  }
  return { node, entry, parent };
}

/** Deep copy, with a new file name nowhere changed (locations stay with their nodes). */
export function cloneTree(node: LNode): LNode {
  switch (node.kind) {
    case 'scalar':
      return { ...node };
    case 'seq':
      return { ...node, items: node.items.map(cloneTree) };
    case 'map':
      return { ...node, entries: node.entries.map((e) => ({ ...e, value: cloneTree(e.value) })) };
  }
}
