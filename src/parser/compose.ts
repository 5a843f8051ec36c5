import { DiagnosticBag } from './diagnostics.js';
import type { FileHost } from './host.js';
import type { Loc } from './location.js';
import { READ_LIMITS, readYaml } from './read.js';
import { cloneTree, getEntry, type LEntry, type LMap, type LNode } from './tree.js';

/** How many files one `extends` chain may join. */
export const MAX_EXTENDS_DEPTH = 16;

/** Bytes one `extends` chain may hold in all (the file compiled and every base): one file's limit. */
export const MAX_EXTENDS_BYTES = READ_LIMITS.maxFileBytes;

export interface ComposeContext {
  bag: DiagnosticBag;
  /** Every file read, by the name diagnostics use, for printing source lines. */
  sources: Map<string, string>;
  /** Where base files are opened, and the path arithmetic on their names (host.ts). */
  files: FileHost;
  /** `extends` may only reach files inside this folder (default: the named file's folder). */
  root: string;
  /** Reads a base file by path instead of from the file opened and checked (tests swap it). */
  readFile?: (path: string) => Uint8Array;
  /** Reuse parsed base files across calls (only with the default reader). */
  cache?: boolean;
  /** Bytes read so far by the chain, the including file first; kept under MAX_EXTENDS_BYTES. */
  chainBytes?: number;
}

/** Parsed `extends` bases by host, then by real path, name and stamp (modification time and size); oldest dropped first. */
const baseCaches = new WeakMap<FileHost, Map<string, { root: LMap; text: string }>>();

/** The cache of one host's files (a stamp means something only to the host that made it). */
function cacheOf(files: FileHost): Map<string, { root: LMap; text: string }> {
  let cache = baseCaches.get(files);
  if (!cache) baseCaches.set(files, (cache = new Map()));
  return cache;
}
const BASE_CACHE_SIZE = 64;

/**
 * Resolves `extends` recursively and merges: the including file overrides its base key by key,
 * mappings merge deeply, lists and scalars are replaced, and `key: null` removes an inherited key.
 * Paths are relative to the including file; absolute paths and paths that leave `ctx.root` are
 * refused, so a file can never make skipgraph read elsewhere on the disk.
 */
export function resolveExtends(root: LMap, file: string, ctx: ComposeContext, chain: string[] = []): LMap | undefined {
  const entry = getEntry(root, 'extends');
  const own: LMap = { ...root, entries: root.entries.filter((e) => e.key !== 'extends') };
  if (!entry) return own;
  const { dirname, displayName, isAbsolute, relative, resolve, sep } = ctx.files;
  const target = entry.value.kind === 'scalar' && typeof entry.value.value === 'string' ? entry.value.value : undefined;
  if (target === undefined) {
    ctx.bag.error('wrong-type', '"extends" must be a file path.', entry.value.loc);
    return undefined;
  }
  const loc = entry.value.loc;
  if (isAbsolute(target)) {
    ctx.bag.error('extends-outside', `"extends" must be a relative path, not "${target}".`, loc, 'Paths are resolved against the file that contains them.');
    return undefined;
  }
  // `extends: resnet50`: a resnet50.yaml beside this file when there is one, else the shipped
  // model, read inside the shipped folder (its own extends stay there).
  let path = resolve(dirname(file), /^[A-Za-z0-9_]+$/.test(target) ? `${target}.yaml` : target);
  let within = ctx.root;
  if (/^[A-Za-z0-9_]+$/.test(target) && !ctx.files.exists(path)) {
    const shipped = ctx.files.shippedArchitecture(target);
    if (shipped === undefined) {
      ctx.bag.error('extends-not-found', `Cannot find "${target}.yaml" beside this file, and skipgraph ships no model named "${target}".`, loc, '`skipgraph list` names the shipped models.');
      return undefined;
    }
    path = shipped;
    within = dirname(shipped);
  } else if (!/\.ya?ml$/i.test(target) && !/^[A-Za-z0-9_]+$/.test(target)) {
    ctx.bag.error('extends-not-found', `"extends" must name a .yaml file or a shipped model, not "${target}".`, loc, '`skipgraph list` names the shipped models.');
    return undefined;
  }
  const rel = relative(within, path);
  if (rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    ctx.bag.error('extends-outside', `"${target}" is outside ${within}.`, loc, 'Keep base files in the same folder tree as the file you compile, or widen it with --extends-root.');
    return undefined;
  }
  if (chain.length >= MAX_EXTENDS_DEPTH) {
    ctx.bag.error('extends-cycle', `"extends" chains more than ${MAX_EXTENDS_DEPTH} files.`, loc);
    return undefined;
  }
  // Opened once, and everything checked on what was opened: a symlink swapped between a check of
  // the path and a read of the path leaked /etc/passwd (37 times in 67,096 compiles).
  const opened = ctx.files.open(path, within);
  if ('problem' in opened) {
    if (opened.problem === 'outside') ctx.bag.error('extends-outside', `"${target}" links to a file outside ${within}.`, loc);
    else ctx.bag.error('extends-not-found', `Cannot find "${target}" (looked for ${path}${opened.problem === 'not-a-file' ? ': not a regular file' : ''}).`, loc);
    return undefined;
  }
  const { real, size } = opened;
  let tree: { root: LMap; text: string } | undefined;
  try {
    if (chain.includes(real)) {
      ctx.bag.error('extends-cycle', `"extends" makes a cycle: ${[...chain, real].map((p) => relative(within, p) || p).join(' -> ')}.`, loc, 'Remove one of the extends lines.');
      return undefined;
    }
    if (size > READ_LIMITS.maxFileBytes) {
      ctx.bag.error('file-too-large', `"${target}" is ${size.toLocaleString('en-US')} bytes; the limit is ${READ_LIMITS.maxFileBytes.toLocaleString('en-US')}.`, loc, 'Architecture files are a few KB: check that this is the right file.');
      return undefined;
    }
    // The whole chain shares one budget: 16 files of 1 MB each took 60 s and 3 GB.
    const total = (ctx.chainBytes ?? 0) + size;
    if (total > MAX_EXTENDS_BYTES) {
      ctx.bag.error('limit-exceeded', `With "${target}" the "extends" chain holds ${total.toLocaleString('en-US')} bytes in ${chain.length + 1} files; a whole chain may hold ${MAX_EXTENDS_BYTES.toLocaleString('en-US')}.`, loc, 'Architecture files are a few KB each: check the chain for a file that does not belong.');
      return undefined;
    }
    ctx.chainBytes = total;
    const name = displayName(path);
    // Sweeps compile variants of the same bases over and over: reuse a base file's tree while the
    // file is unchanged (same size and modification time). The tree is copied out, since --set
    // edits the merged tree in place.
    const key = `${real}\0${name}\0${opened.stamp}`;
    const baseCache = cacheOf(ctx.files);
    tree = ctx.cache ? baseCache.get(key) : undefined;
    if (tree) ctx.sources.set(name, tree.text);
    else {
      let bytes: Uint8Array;
      try {
        bytes = ctx.readFile ? ctx.readFile(path) : opened.read();
      } catch {
        ctx.bag.error('extends-not-found', `Cannot read "${target}".`, loc);
        return undefined;
      }
      const read = readYaml(bytes, name, ctx.bag);
      ctx.sources.set(name, read.source.text);
      if (!read.root) return undefined;
      if (read.root.kind !== 'map') {
        ctx.bag.error('not-a-mapping', `"${target}" must hold a mapping of keys.`, read.root.loc);
        return undefined;
      }
      tree = { root: read.root, text: read.source.text };
      if (ctx.cache) {
        if (baseCache.size >= BASE_CACHE_SIZE) baseCache.delete(baseCache.keys().next().value!);
        baseCache.set(key, tree);
      }
    }
  } finally {
    opened.close();
  }
  const outer = ctx.root;
  ctx.root = within; // a shipped base's own extends stay in the shipped folder
  try {
    const base = resolveExtends(cloneTree(tree.root) as LMap, path, ctx, [...chain, real]);
    return base ? mergeMaps(base, own) : undefined;
  } finally {
    ctx.root = outer;
  }
}

/** Override `over` on top of `base`: deep for mappings, whole values otherwise, null deletes. */
export function mergeMaps(base: LMap, over: LMap): LMap {
  // Indexed by key (a Map: keys are YAML text): a search per key was quadratic in big mappings.
  const entries: (LEntry | undefined)[] = base.entries.map((e) => ({ ...e }));
  const index = new Map<string, number>();
  entries.forEach((e, i) => index.set(e!.key, i));
  for (const o of over.entries) {
    const i = index.get(o.key);
    const isNull = o.value.kind === 'scalar' && o.value.value === null;
    if (i === undefined) {
      if (!isNull) index.set(o.key, entries.push(o) - 1);
    } else if (isNull) {
      entries[i] = undefined;
      index.delete(o.key);
    } else if (entries[i]!.value.kind === 'map' && o.value.kind === 'map') entries[i] = { ...o, value: mergeMaps(entries[i]!.value as LMap, o.value) };
    else entries[i] = o;
  }
  return { kind: 'map', entries: entries.filter((e): e is LEntry => e !== undefined), loc: over.loc };
}

/**
 * Applies `--set path=value` overrides for sweeps: `stages.2.blocks=6`, `input.height=64`,
 * `shortcut=zeropad`. The value is YAML (`[3, 3]` and `{reduction: 8}` work). The parent of the
 * path must exist, list indices must exist; a mapping may gain a key (the schema then checks it).
 */
export function applySet(root: LMap, arg: string, index: number, ctx: Pick<ComposeContext, 'bag' | 'sources'>): void {
  const name = `--set[${index + 1}]`;
  ctx.sources.set(name, arg);
  const eq = arg.indexOf('=');
  const at = (start: number, end: number) => setLoc(name, start, end);
  if (eq <= 0) {
    ctx.bag.error('set-syntax', `"--set ${arg}" is not path=value.`, at(0, arg.length), 'Example: --set stages.2.blocks=6');
    return;
  }
  const path = arg.slice(0, eq).split('.');
  if (path[0] === 'extends') {
    // `extends` is resolved before --set; setting it afterwards would be silently ignored.
    ctx.bag.error('set-path-unknown', '"extends" cannot be changed with --set: it is resolved before --set applies.', at(0, 'extends'.length), 'Write a small file that extends the base you want, or edit the extends line.');
    return;
  }
  // The value is read alone; its errors are moved to where the value sits in `path=value`.
  const valueBag = new DiagnosticBag();
  const read = readYaml(arg.slice(eq + 1), name, valueBag);
  for (const d of valueBag.items) {
    if (d.code === 'empty-file') ctx.bag.error('set-syntax', `"--set ${arg}" has no value after "=".`, at(eq, eq + 1), 'Example: --set stages.2.blocks=6');
    else ctx.bag.add({ ...d, loc: shiftLoc(d.loc, eq + 1, name) });
  }
  if (!read.root) return;
  const value = shift(read.root, eq + 1, name);
  let node: LNode = root;
  let offset = 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const segLoc = at(offset, offset + seg.length);
    const last = i === path.length - 1;
    if (node.kind === 'map') {
      const entry = getEntry(node, seg);
      if (!entry) {
        if (last && seg !== '' && !/^(__proto__|constructor|prototype)$/.test(seg)) {
          node.entries.push({ key: seg, keyLoc: segLoc, value });
          return;
        }
        const keys = node.entries.map((e) => e.key);
        ctx.bag.error('set-path-unknown', `"${path.slice(0, i + 1).join('.')}" does not exist.`, segLoc, keys.length ? `Keys here: ${keys.join(', ')}.` : undefined);
        return;
      }
      if (last) entry.value = value;
      else node = entry.value;
    } else if (node.kind === 'seq') {
      const k = /^\d+$/.test(seg) ? Number(seg) : -1;
      if (k < 0 || k >= node.items.length) {
        ctx.bag.error('set-path-unknown', `"${path.slice(0, i + 1).join('.')}" does not exist: the list has ${node.items.length} item(s), numbered from 0.`, segLoc);
        return;
      }
      if (last) node.items[k] = value;
      else node = node.items[k];
    } else {
      ctx.bag.error('set-path-unknown', `"${path.slice(0, i).join('.')}" is a single value; it has no "${seg}".`, segLoc);
      return;
    }
    offset += seg.length + 1;
  }
}

function setLoc(file: string, start: number, end: number) {
  return { file, line: 1, col: start + 1, endLine: 1, endCol: end + 1, offset: start, endOffset: end };
}

/** Moves locations of a value parsed alone to where it sits in the whole `path=value` argument. */
function shiftLoc(l: Loc, by: number, file: string): Loc {
  return { ...l, file, col: l.line === 1 ? l.col + by : l.col, endCol: l.endLine === 1 ? l.endCol + by : l.endCol, offset: l.offset + by, endOffset: l.endOffset + by };
}

function shift(n: LNode, by: number, file: string): LNode {
  const loc = shiftLoc(n.loc, by, file);
  if (n.kind === 'scalar') return { ...n, loc };
  if (n.kind === 'seq') return { ...n, loc, items: n.items.map((i) => shift(i, by, file)) };
  return { ...n, loc, entries: n.entries.map((e) => ({ ...e, keyLoc: shift({ kind: 'scalar', value: null, loc: e.keyLoc }, by, file).loc, value: shift(e.value, by, file) })) };
}
