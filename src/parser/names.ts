import type { DiagnosticBag } from './diagnostics.js';
import type { LNode } from './tree.js';

/**
 * Names every JavaScript object already holds: `constructor`, `toString`, `valueOf`,
 * `hasOwnProperty`, `isPrototypeOf`, `__proto__`, ... TF.js keeps layers in plain objects keyed by
 * name, so a layer called `toString` compiled and trained, but could not be loaded again
 * ("unprocessedNodes[layer.name].push is not a function").
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/**
 * Refuses node and stage names that TF.js cannot hold, at their line: every `name:` below the top
 * level (the top-level `name` is the network's, never an object key). The schema's pattern has
 * already refused names TF.js's tensor-name rule refuses (a leading `_`).
 */
export function checkNames(root: LNode, bag: DiagnosticBag): void {
  const stack: LNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.kind === 'seq') {
      for (const c of node.items) stack.push(c);
      continue;
    }
    if (node.kind !== 'map') continue;
    for (const e of node.entries) {
      if (e.key === 'name' && node !== root && e.value.kind === 'scalar' && typeof e.value.value === 'string' && RESERVED_NAMES.has(e.value.value)) {
        bag.error('reserved-name', `"${e.value.value}" cannot be a node or stage name: JavaScript objects (and so TF.js's layer tables) already hold it.`, e.value.loc, `Rename it, e.g. "${e.value.value.replace(/^_+/, '')}_1".`);
      }
      stack.push(e.value);
    }
  }
}
