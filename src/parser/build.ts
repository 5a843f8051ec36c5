import { BUILTIN_BLOCKS, type Arg, type ArchitectureAst, type BlockDefAst, type PartialParts, type LayerAst, type NumArg, type RegNetAst, type SeAst, type ShortcutRuleName, type StageAst } from './ast.js';
import { readFeatures } from './backbone.js';
import { InternalError, type DiagnosticBag } from './diagnostics.js';
import { isExprError, parseExpr } from './expr.js';
import type { Loc } from './location.js';
import { isLayerOp } from './schema.js';
import { didYouMean } from './suggest.js';
import { get, getEntry, type LMap, type LNode, type LSeq } from './tree.js';

/** Defaults of stage fields; the schema documents the same values. */
const STAGE_DEFAULTS = { stride: 1, groups: 1, width_per_group: 64, dilation: 1 };
const DEFAULT_SE_REDUCTION = 16;

/**
 * Turns a schema-valid tree into the typed AST. Only checks the schema cannot express live here:
 * expression syntax, and block names that must exist.
 */
export function buildAst(root: LMap, file: string, bag: DiagnosticBag, partial?: PartialParts): ArchitectureAst | undefined {
  const num = (n: LNode | undefined) => (n?.kind === 'scalar' ? (n.value as number) : 0);
  const str = (n: LNode | undefined) => (n?.kind === 'scalar' && typeof n.value === 'string' ? n.value : undefined);
  const input = get(root, 'input') as LMap;
  const fieldLocs: Record<string, Loc> = {};
  for (const e of root.entries) fieldLocs[e.key] = e.keyLoc;

  const blocks = new Map<string, BlockDefAst>();
  const blocksNode = get(root, 'blocks');
  if (blocksNode?.kind === 'map') {
    for (const e of blocksNode.entries) {
      const def = e.value as LMap;
      if ((BUILTIN_BLOCKS as readonly string[]).includes(e.key)) {
        bag.error('invalid-value', `"${e.key}" is a built-in block; give your block another name.`, e.keyLoc);
        continue;
      }
      blocks.set(e.key, {
        name: e.key,
        params: paramsOf(get(def, 'params')),
        paramLocs: paramLocsOf(get(def, 'params')),
        pre: layersOf(get(def, 'pre') as LSeq | undefined, bag),
        layers: layersOf(get(def, 'layers') as LSeq, bag),
        post: str(get(def, 'post')) ?? 'relu',
        loc: e.keyLoc,
      });
    }
  }

  const defaults = get(root, 'stage_defaults') as LMap | undefined;
  const globalShortcut = (str(get(root, 'shortcut')) ?? 'projection') as ShortcutRuleName;
  const stages: StageAst[] = [];
  const known = [...BUILTIN_BLOCKS, ...blocks.keys()];
  (get(root, 'stages') as LSeq).items.forEach((item, index) => {
    const s = item as LMap;
    const design = getEntry(s, 'regnet');
    if (design) {
      stages.push(designPlaceholder(index, design.value as LMap, s.loc, globalShortcut));
      return;
    }
    // A field comes from the stage, else from stage_defaults, else from the built-in default.
    const pick = (key: string): { node?: LNode; loc: Loc } => {
      const own = getEntry(s, key);
      if (own) return { node: own.value, loc: own.value.loc };
      const d = defaults ? getEntry(defaults, key) : undefined;
      if (d) return { node: d.value, loc: d.value.loc };
      return { loc: s.loc };
    };
    const fieldLocs: Record<string, Loc> = {};
    const val = (key: keyof typeof STAGE_DEFAULTS) => {
      const p = pick(key);
      fieldLocs[key] = p.loc;
      return p.node ? num(p.node) : STAGE_DEFAULTS[key];
    };
    const blockEntry = getEntry(s, 'block')!;
    const block = str(blockEntry.value)!;
    // A block whose definition had schema errors was reported there (recover.ts).
    if (!known.includes(block) && !partial?.blocks.includes(block)) {
      bag.error('unknown-block', `Unknown block "${block}" in stages[${index}].`, blockEntry.value.loc, didYouMean(block, known) ?? `Blocks: ${known.join(', ')}.`);
    }
    for (const e of s.entries) fieldLocs[e.key] = e.value.loc;
    const sc = pick('shortcut');
    if (!sc.node && get(root, 'shortcut')) sc.loc = get(root, 'shortcut')!.loc;
    const se = pick('se');
    const params = pick('params');
    stages.push({
      index,
      name: str(get(s, 'name')),
      block,
      channels: num(get(s, 'channels')),
      blocks: num(get(s, 'blocks')),
      stride: val('stride'),
      groups: val('groups'),
      widthPerGroup: val('width_per_group'),
      dilation: val('dilation'),
      firstDilation: firstDilationOf(s, stages, fieldLocs),
      shortcut: ((sc.node && str(sc.node)) ?? globalShortcut) as ShortcutRuleName,
      se: seOf(se.node, se.loc),
      params: { ...paramsOf(defaults ? get(defaults, 'params') : undefined), ...paramsOf(getEntry(s, 'params')?.value) },
      groupWidth: num(get(s, 'group_width')),
      ...(get(s, 'drop_path') ? { dropPath: num(get(s, 'drop_path')) } : {}),
      bottleneckRatio: get(s, 'bottleneck_ratio') ? num(get(s, 'bottleneck_ratio')) : 1,
      numbering: (str(pick('numbering').node) ?? 'nested') as StageAst['numbering'],
      ...(get(s, 'first_index') ? { firstIndex: num(get(s, 'first_index')) } : {}),
      loc: s.loc,
      fieldLocs: { ...fieldLocs, shortcut: sc.loc, se: se.loc, params: params.loc },
    });
  });

  return {
    file,
    name: str(get(root, 'name'))!,
    description: str(get(root, 'description')),
    input: { height: num(get(input, 'height')), width: num(get(input, 'width')), channels: num(get(input, 'channels')), loc: input.loc, fieldLocs: Object.fromEntries(input.entries.map((e) => [e.key, e.value.loc])) },
    ...(get(root, 'classes') ? { classes: num(get(root, 'classes')) } : {}),
    shortcut: globalShortcut,
    ...(get(root, 'drop_path_rate') ? { dropPathRate: num(get(root, 'drop_path_rate')) } : {}),
    dropPathSchedule: (str(get(root, 'drop_path_schedule')) ?? 'linspace') as ArchitectureAst['dropPathSchedule'],
    params: paramsOf(get(root, 'params')),
    paramLocs: paramLocsOf(get(root, 'params')),
    ...scalingOf(get(root, 'scaling')),
    stem: layersOf(get(root, 'stem') as LSeq, bag),
    stages,
    // A backbone's head is absent or `head: none` (readFeatures refuses any other).
    head: get(root, 'head')?.kind === 'seq' ? layersOf(get(root, 'head') as LSeq, bag) : [],
    ...readFeatures(root, file, bag),
    blocks,
    loc: root.loc,
    fieldLocs,
    ...(partial ? { partial } : {}),
  };
}

/** A stage's first_dilation as written, else the previous stage's dilation (torchvision, timm). */
function firstDilationOf(s: LMap, before: readonly StageAst[], fieldLocs: Record<string, Loc>): number {
  const own = getEntry(s, 'first_dilation');
  if (own?.value.kind === 'scalar') {
    fieldLocs.first_dilation = own.value.loc;
    return own.value.value as number;
  }
  fieldLocs.first_dilation = fieldLocs.dilation ?? s.loc;
  return before.length ? before[before.length - 1].dilation : 1;
}

function paramsOf(n: LNode | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (n?.kind === 'map') for (const e of n.entries) if (e.value.kind === 'scalar') out[e.key] = e.value.value as number;
  return out;
}

function paramLocsOf(n: LNode | undefined): Record<string, Loc> {
  const out: Record<string, Loc> = {};
  if (n?.kind === 'map') for (const e of n.entries) out[e.key] = e.keyLoc;
  return out;
}

/** `scaling: { width, depth, divisor }` (EfficientNet's compound scaling; divisor 8 by default). */
function scalingOf(n: LNode | undefined): Pick<ArchitectureAst, 'scaling'> {
  if (n?.kind !== 'map') return {};
  const v = (key: string, dflt: number) => {
    const x = get(n, key);
    return x?.kind === 'scalar' && typeof x.value === 'number' ? x.value : dflt;
  };
  return { scaling: { width: v('width', 1), depth: v('depth', 1), divisor: v('divisor', 8), loc: n.loc } };
}

function seOf(n: LNode | undefined, loc: Loc): SeAst | null {
  if (!n) return null;
  if (n.kind === 'scalar') return n.value === true ? { reduction: DEFAULT_SE_REDUCTION, of: 'current', loc } : null;
  if (n.kind === 'map') {
    const r = get(n, 'reduction');
    const ratio = get(n, 'ratio');
    const of = get(n, 'of');
    const se: SeAst = { reduction: r?.kind === 'scalar' ? (r.value as number) : DEFAULT_SE_REDUCTION, of: ratio ? 'input' : 'current', loc };
    if (ratio?.kind === 'scalar') se.ratio = ratio.value as number;
    if (of?.kind === 'scalar') se.of = of.value as SeAst['of'];
    const act = get(n, 'activation');
    if (act?.kind === 'scalar') se.activation = act.value as SeAst['activation'];
    const gate = get(n, 'gate');
    if (gate?.kind === 'scalar') se.gate = gate.value as SeAst['gate'];
    return se;
  }
  return null;
}

/**
 * A `{ regnet: ... }` stage item: the design's fields, kept for the compiler, which expands it
 * into stages (expansion is the compiler's; the parser only reads what is written).
 */
function designPlaceholder(index: number, m: LMap, itemLoc: Loc, globalShortcut: ShortcutRuleName): StageAst {
  const fieldLocs: Record<string, Loc> = {};
  for (const e of m.entries) fieldLocs[e.key] = e.value.loc;
  const n = (key: string, dflt: number) => {
    const v = get(m, key);
    return v?.kind === 'scalar' && typeof v.value === 'number' ? v.value : dflt;
  };
  const s = (key: string) => {
    const v = get(m, key);
    return v?.kind === 'scalar' && typeof v.value === 'string' ? v.value : undefined;
  };
  const design: RegNetAst = {
    depth: n('depth', 1),
    w0: n('w0', 1),
    wa: n('wa', 0),
    wm: n('wm', 2),
    groupWidth: n('group_width', 1),
    bottleneckRatio: n('bottleneck_ratio', 1),
    seRatio: n('se_ratio', 0),
    stride: n('stride', 2),
    quantum: n('quantum', 8),
    rounding: (s('rounding') ?? 'pycls') as RegNetAst['rounding'],
    names: (s('names') ?? 'torchvision') as RegNetAst['names'],
    shortcut: s('shortcut') as ShortcutRuleName | undefined,
    loc: m.loc,
    fieldLocs,
  };
  return {
    index,
    block: design.seRatio > 0 ? 'regnet_y' : 'regnet_x',
    channels: 0,
    blocks: 0,
    stride: design.stride,
    groups: 1,
    widthPerGroup: 64,
    dilation: 1,
    firstDilation: 1,
    numbering: 'nested',
    shortcut: design.shortcut ?? globalShortcut,
    se: null,
    params: {},
    groupWidth: design.groupWidth,
    bottleneckRatio: design.bottleneckRatio,
    design,
    loc: itemLoc,
    fieldLocs,
  };
}

/** Layer attributes whose values are words (an enum in the schema), not numbers or expressions. */
const WORD_ARGS = new Set(['activation', 'gate']);

function layersOf(seq: LSeq | undefined, bag: DiagnosticBag): LayerAst[] {
  if (!seq) return [];
  return seq.items.map((item) => {
    const m = item as LMap;
    const opEntry = getEntry(m, 'op')!;
    const args: Record<string, Arg> = {};
    let invalid = false;
    const written = String((opEntry.value as { value: unknown }).value);
    // The schema (or recovery's stand-ins) admits layer ops only; anything else is a bug here.
    if (!isLayerOp(written)) throw new InternalError(`a layer op the schema admits is unknown: "${written}"`);
    const op = written;
    const blockEntry = op === 'use' ? getEntry(m, 'block') : undefined;
    const use = blockEntry ? { block: String((blockEntry.value as { value: unknown }).value), params: useParamsOf(get(m, 'params'), bag), blockLoc: blockEntry.value.loc } : undefined;
    for (const e of m.entries) {
      if (e.key === 'op' || e.key === 'name' || (use && (e.key === 'block' || e.key === 'params'))) continue;
      // Words the schema allows only from an enum (se's activation and gate) are kept as words.
      const a = WORD_ARGS.has(e.key) && e.value.kind === 'scalar' && typeof e.value.value === 'string' ? { kind: 'word' as const, value: e.value.value, loc: e.value.loc } : argOf(e.value, bag);
      if (a) args[e.key] = a;
      // Reported where it failed; planning it without the attribute gave a second, wrong error
      // ("the filters (undefined)").
      else invalid = true;
    }
    const nameNode = get(m, 'name');
    return {
      op,
      ...(use ? { use } : {}),
      ...(invalid ? { invalid } : {}),
      name: nameNode?.kind === 'scalar' ? String(nameNode.value) : undefined,
      args,
      loc: m.loc,
      opLoc: opEntry.value.loc,
    };
  });
}

/** The values a `use` passes: numbers or expressions, evaluated in the caller's scope. */
function useParamsOf(n: LNode | undefined, bag: DiagnosticBag): Record<string, NumArg> {
  const out: Record<string, NumArg> = {};
  if (n?.kind === 'map') {
    for (const e of n.entries) {
      const a = numArg(e.value, bag);
      if (a) out[e.key] = a;
    }
  }
  return out;
}

function argOf(n: LNode, bag: DiagnosticBag): Arg | undefined {
  if (n.kind === 'seq') {
    const items = n.items.map((i) => numArg(i, bag));
    // One unreadable item fails the list: dropping it turned [bad, 3] into 3.
    return items.every((x) => x !== undefined) ? { kind: 'list', items: items as NumArg[], loc: n.loc } : undefined;
  }
  if (n.kind === 'scalar' && typeof n.value === 'boolean') return { kind: 'bool', value: n.value, loc: n.loc };
  return numArg(n, bag);
}

function numArg(n: LNode, bag: DiagnosticBag): NumArg | undefined {
  if (n.kind !== 'scalar') return undefined;
  if (typeof n.value === 'number') return { kind: 'num', value: n.value, loc: n.loc };
  if (typeof n.value === 'string') {
    const e = parseExpr(n.value);
    if (isExprError(e)) {
      // Point into the expression when it was written on one line without quotes' escapes.
      const quoteShift = n.loc.endOffset - n.loc.offset > n.value.length ? 1 : 0;
      const at = n.loc.offset >= 0 ? { ...n.loc, col: n.loc.col + quoteShift + e.at, offset: n.loc.offset + quoteShift + e.at, endCol: n.loc.col + quoteShift + e.at + 1, endLine: n.loc.line } : n.loc;
      bag.error('expr-syntax', `Cannot read the expression "${n.value}": ${e.message}.`, at, 'Expressions use numbers, $parameters, + - * / // %, parentheses, min(), max(), ceil() and make_divisible(v, divisor).');
      return undefined;
    }
    return { kind: 'expr', source: n.value, expr: e, loc: n.loc };
  }
  return undefined;
}
