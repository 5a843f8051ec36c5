/**
 * Completion and hover docs from schemas/architecture.schema.json. Finding where the cursor is
 * reads the text's indentation (and flow braces), not a parse tree: it has to work on the
 * half-typed, invalid YAML an editor holds while the user types.
 */
import schema from '../../schemas/architecture.schema.json' with { type: 'json' };
import type { HelpReply } from './protocol.js';

type Json = Record<string, unknown>;
type Seg = string | '*';

const defs = (schema as Json).$defs as Record<string, Json>;

function deref(s: unknown): Json[] {
  if (!s || typeof s !== 'object') return [];
  const o = s as Json;
  if (typeof o.$ref === 'string') return deref(defs[o.$ref.replace('#/$defs/', '')]);
  const out: Json[] = [o];
  for (const k of ['oneOf', 'anyOf', 'allOf'] as const) if (Array.isArray(o[k])) for (const alt of o[k] as unknown[]) out.push(...deref(alt));
  if (o.then) out.push(...deref(o.then));
  if (o.else) out.push(...deref(o.else));
  return out;
}

/** The schemas an object at `path` may follow; `ops` narrows layer alternatives to the written op. */
function schemasAt(path: Seg[], op?: string): Json[] {
  let cur: Json[] = deref(schema);
  for (const seg of path) {
    const next: Json[] = [];
    for (const s of cur) {
      if (seg === '*') next.push(...deref(s.items));
      else {
        const props = s.properties as Record<string, unknown> | undefined;
        if (props && seg in props) next.push(...deref(props[seg]));
        else if (s.additionalProperties && typeof s.additionalProperties === 'object') next.push(...deref(s.additionalProperties));
      }
    }
    cur = next;
  }
  if (op !== undefined) {
    const narrowed = cur.filter((s) => {
      const o = (s.properties as Record<string, Json> | undefined)?.op;
      return !o || o.const === undefined || o.const === op;
    });
    if (narrowed.length) cur = narrowed;
  }
  return cur;
}

function properties(path: Seg[], op?: string): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const s of schemasAt(path, op)) {
    const props = s.properties as Record<string, unknown> | undefined;
    if (!props) continue;
    for (const [k, v] of Object.entries(props)) {
      const [first, ...rest] = deref(v);
      const merged: Json = { ...(first ?? {}) };
      for (const r of rest) for (const [rk, rv] of Object.entries(r)) if (!(rk in merged)) merged[rk] = rv;
      const prev = out.get(k);
      if (!prev || (!prev.description && merged.description)) out.set(k, merged);
    }
  }
  return out;
}

function valuesOf(s: Json | undefined): string[] {
  if (!s) return [];
  const out = new Set<string>();
  for (const alt of deref(s)) {
    if (Array.isArray(alt.enum)) for (const v of alt.enum) out.add(String(v));
    if (alt.const !== undefined) out.add(String(alt.const));
    if (alt.type === 'boolean') ['true', 'false'].forEach((v) => out.add(v));
  }
  return [...out];
}

interface Line {
  text: string;
  indent: number;
}

const isBlank = (l: string) => /^\s*(#.*)?$/.test(l);
const KEY = /^([A-Za-z_$][\w$.-]*)\s*:(\s|$)/;

/** The container path of a block line whose content starts at column `col` (line `idx`). */
function blockPath(lines: Line[], idx: number, col: number): Seg[] {
  const path: Seg[] = [];
  let limit = col;
  let afterItem = -1; // indent of the list item just passed: its key may sit at the same indent
  for (let j = idx - 1; j >= 0 && limit > 0; j--) {
    const l = lines[j];
    if (isBlank(l.text)) continue;
    const content = l.text.slice(l.indent);
    const item = content.startsWith('- ') || content === '-';
    const sameIndentKey = afterItem === l.indent && !item;
    if (l.indent >= limit && !sameIndentKey) continue;
    if (item) {
      // "- key: v": the item's map holds the keys below it at indent + 2.
      path.unshift('*');
      limit = l.indent;
      afterItem = l.indent;
      continue;
    }
    const m = KEY.exec(content);
    if (!m) continue;
    path.unshift(m[1]);
    limit = l.indent;
    afterItem = -1;
  }
  return path;
}

/** Where the cursor is: the object path, whether a key or a value is being typed, and which. */
export function locate(text: string, pos: number): { path: Seg[]; mode: 'key' | 'value'; key?: string; op?: string; wordFrom: number; wordTo: number } {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  let lineEnd = text.indexOf('\n', pos);
  if (lineEnd < 0) lineEnd = text.length;
  const all = text.split('\n').map((t) => ({ text: t, indent: t.length - t.trimStart().length }));
  const idx = text.slice(0, lineStart).split('\n').length - 1;
  const before = text.slice(lineStart, pos);
  const after = text.slice(pos, lineEnd);
  const wordFrom = pos - (/[\w$.-]*$/.exec(before)?.[0].length ?? 0);
  const wordTo = pos + (/^[\w$.-]*/.exec(after)?.[0].length ?? 0);
  const lineText = all[idx].text;
  const opMatch = /(?:^|[{,\s])op\s*:\s*([A-Za-z_][\w]*)/.exec(lineText);
  const op = opMatch?.[1];

  // Flow braces on this line: the innermost unclosed "{" holds the cursor.
  let depth = 0;
  let brace = -1;
  const stack: number[] = [];
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '{') stack.push(i);
    else if (before[i] === '}') stack.pop();
  }
  depth = stack.length;
  if (depth > 0) brace = stack[stack.length - 1];

  const seg = (s: string) => {
    const m = /^\s*([\w$.-]*)\s*:\s*/.exec(s);
    return m ? { mode: 'value' as const, key: m[1] } : { mode: 'key' as const };
  };
  if (brace >= 0) {
    const inner = before.slice(brace + 1);
    const last = inner.slice(inner.lastIndexOf(',') + 1);
    // The owner of the brace: "key: {" or "- {" (or an outer brace, which we do not follow).
    const head = before.slice(0, brace);
    const content = head.slice(all[idx].indent);
    const path = blockPath(all, idx, all[idx].indent);
    const items = /^(-\s+)*/.exec(content)?.[0].match(/-/g)?.length ?? 0;
    for (let i = 0; i < items; i++) path.push('*');
    const km = /([\w$.-]+)\s*:\s*$/.exec(head);
    if (km) path.push(km[1]);
    return { path, ...seg(last), op, wordFrom, wordTo };
  }
  const content = before.slice(all[idx].indent);
  const items = /^(-\s+)*/.exec(content)?.[0] ?? '';
  const path = blockPath(all, idx, all[idx].indent);
  for (let i = 0; i < (items.match(/-/g)?.length ?? 0); i++) path.push('*');
  const rest = content.slice(items.length);
  return { path, ...seg(rest), op, wordFrom, wordTo };
}

function present(text: string, pos: number): Set<string> {
  // Keys already written on this line (flow maps); block maps are not scanned (a duplicate is a diagnostic anyway).
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const lineEnd = text.indexOf('\n', pos);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  return new Set([...line.matchAll(/[{,]\s*([\w$.-]+)\s*:/g)].map((m) => m[1]));
}

const typeOf = (s: Json) => {
  const t = deref(s).map((a) => a.type).filter(Boolean);
  return t.length ? [...new Set(t.flat())].join(' | ') : undefined;
};

export function complete(text: string, pos: number): Omit<HelpReply, 'type' | 'id'> {
  const at = locate(text, pos);
  if (at.mode === 'key') {
    const have = present(text, pos);
    const options = [...properties(at.path, at.op)]
      .filter(([k]) => !have.has(k) && k !== '$schema')
      .map(([k, s]) => ({ label: k, detail: typeOf(s) as string | undefined, info: s.description as string | undefined, type: 'property' as const }));
    return { from: at.wordFrom, to: at.wordTo, options };
  }
  const prop = properties(at.path, at.key === 'op' ? undefined : at.op).get(at.key ?? '');
  const values = at.key === 'op' ? [...new Set(schemasAt(at.path).flatMap((s) => valuesOf((s.properties as Record<string, Json> | undefined)?.op)))] : valuesOf(prop);
  return { from: at.wordFrom, to: at.wordTo, options: values.map((v) => ({ label: v, type: 'enum' as const, info: prop?.description as string | undefined })) };
}

export function hover(text: string, pos: number): Omit<HelpReply, 'type' | 'id'> {
  const at = locate(text, pos);
  const word = text.slice(at.wordFrom, at.wordTo);
  // On a key: its description. On a value: the key's description.
  const after = text.slice(at.wordTo, at.wordTo + 3);
  const key = /^\s*:/.test(after) ? word : at.key;
  if (!key) return { from: at.wordFrom, to: at.wordTo, options: [] };
  const s = properties(at.path, at.op).get(key);
  const doc = s?.description as string | undefined;
  return { from: at.wordFrom, to: at.wordTo, options: [], doc: doc ? `${key}${typeOf(s!) ? ` (${typeOf(s!)})` : ''}: ${doc}` : undefined };
}
