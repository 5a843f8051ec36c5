import type { PartialParts } from './ast.js';
import { DiagnosticBag } from './diagnostics.js';
import { validateTree, type SchemaFailure } from './schema.js';
import { getEntry, nodeAt, type LMap, type LNode } from './tree.js';

/**
 * After schema errors, a copy of the tree the rest of the checks can still read: unknown keys are
 * dropped, and each part with an error is replaced by a harmless stand-in and remembered (a stage,
 * a stem or head layer, a block definition, the input), so that names, blocks and the stages that
 * do not depend on the broken part are still checked in the same run. Returns undefined where
 * nothing trustworthy is left (the top level itself, `stage_defaults`, the stage list), and the
 * reason, for the one line that says what was skipped.
 */
export function recoverTree(root: LMap, failures: readonly SchemaFailure[]): { root: LMap; parts: PartialParts } | { skipped: string } {
  const copy = structuredClone(root);
  const parts: PartialParts = { input: false, classes: false, stem: false, head: false, stages: [], blocks: [] };
  const loc = (segs: string[]) => nodeAt(copy, segs).node?.loc ?? copy.loc;
  const scalar = (value: string | number, at: LNode['loc']): LNode => ({ kind: 'scalar', value, loc: at });
  const map = (entries: [string, LNode][], at: LNode['loc']): LMap => ({ kind: 'map', entries: entries.map(([key, value]) => ({ key, keyLoc: at, value })), loc: at });
  const setRoot = (key: string, value: LNode) => {
    const e = getEntry(copy, key);
    if (e) e.value = value;
    else copy.entries.push({ key, keyLoc: copy.loc, value });
  };
  const replaceItem = (listKey: 'stages' | 'stem' | 'head', index: number, make: (at: LNode['loc']) => LNode): boolean => {
    const list = getEntry(copy, listKey)?.value;
    if (list?.kind !== 'seq' || !list.items[index]) return false;
    list.items[index] = make(list.items[index].loc);
    return true;
  };
  const fatal = (segs: string[]) => ({ skipped: `the checks after the schema (names, blocks, shapes, limits): ${segs.length ? `"${segs.join('.')}"` : 'the top level'} must be fixed first` });

  for (const f of failures) {
    const segs = f.segs;
    if (f.keyword === 'additionalProperties') {
      const { node } = nodeAt(copy, segs);
      if (node?.kind === 'map') node.entries = node.entries.filter((e) => e.key !== f.key);
      continue;
    }
    const [head, second] = segs;
    const index = second !== undefined && /^\d+$/.test(second) ? Number(second) : -1;
    if (head === 'stages' && index >= 0) {
      if (!replaceItem('stages', index, (at) => map([['block', scalar('basic', at)], ['channels', scalar(1, at)], ['blocks', scalar(1, at)]], at))) return fatal(segs);
      if (!parts.stages.includes(index)) parts.stages.push(index);
    } else if ((head === 'stem' || head === 'head') && index >= 0) {
      if (!replaceItem(head, index, (at) => map([['op', scalar('relu', at)]], at))) return fatal(segs);
      parts[head] = true;
    } else if (head === 'blocks' && second !== undefined) {
      const defs = getEntry(copy, 'blocks')?.value;
      if (defs?.kind !== 'map') return fatal(segs);
      defs.entries = defs.entries.filter((e) => e.key !== second);
      if (!parts.blocks.includes(second)) parts.blocks.push(second);
    } else if (head === 'input') {
      const at = loc(['input']);
      setRoot('input', map([['height', scalar(1, at)], ['width', scalar(1, at)], ['channels', scalar(1, at)]], at));
      parts.input = true;
    } else if (head === 'classes') {
      setRoot('classes', scalar(1, loc(['classes'])));
      parts.classes = true;
    } else if (head === 'shortcut') {
      // Every add depends on the rule: the stages are still planned, but no shape is checked.
      setRoot('shortcut', scalar('projection', loc(['shortcut'])));
      parts.input = true;
    } else if (head === 'name' || head === 'description') {
      setRoot(head, scalar('x', loc([head])));
    } else {
      return fatal(segs);
    }
  }
  // The stand-ins must make a valid file; where they do not, nothing after the schema is trusted.
  const quiet = new DiagnosticBag();
  if (!validateTree(copy, quiet)) return fatal([]);
  return { root: copy, parts };
}
