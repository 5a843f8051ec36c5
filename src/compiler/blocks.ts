import { didYouMean, evaluate, exprParams, type NumArg, type BlockDefAst, type DiagnosticBag, type Loc, type StageAst } from '../parser/index.js';
import { Namer, planLayer, UNKNOWN, type Env, type PlannedLayer } from './layers.js';
import type { ActivationOp } from './types.js';
import { planRegNet, seWidth } from './regnet.js';

/**
 * What one residual block computes, before shapes are known: the layers of its main path, the
 * activation after the add, and what the shortcut needs to know. The shortcut itself is decided
 * in one place (shortcut.ts) from the shapes that come out.
 */
export interface BlockPlan {
  /** Pre-activation layers (BN, ReLU) applied to the input first; a projection taps their output. */
  pre: PlannedLayer[];
  main: PlannedLayer[];
  post: PlannedLayer | null;
  /** Spatial stride of the block: the stage stride for block 0, 1 for the others. */
  stride: number;
  /** Pre-activation blocks project without a BN of their own (ResNet v2). */
  preact: boolean;
  /** Local names of the shortcut's nodes (default downsample.0, downsample.1, ...). */
  shortcutIds?: string[];
}

export interface BlockContext {
  stage: StageAst;
  /** 0-based index of the block in its stage. */
  index: number;
  /** Channels entering the block. */
  inChannels: number;
  /** $classes; absent in a backbone that gives no `classes` (an expression naming it is then an unknown parameter). */
  classes?: number;
  /** The network's parameters ($classes, `params:`, the scaling's $width_mult and $depth_mult). */
  network?: Env;
  /** Most layers one user block may expand to (`use` nests, so expansion can grow exponentially). */
  maxLayers?: number;
}

/** torchvision's Bottleneck width: int(planes * (base_width / 64.)) * groups. */
export function bottleneckWidth(planes: number, widthPerGroup: number, groups: number): number {
  return Math.floor((planes * widthPerGroup) / 64) * groups;
}

/** Output channels of a built-in block: planes * expansion (1 basic, 4 bottleneck). */
export const EXPANSION: Record<string, number> = { basic: 1, preact_basic: 1, bottleneck: 4, preact_bottleneck: 4, regnet_x: 1, regnet_y: 1 };

const conv = (local: string, filters: number, k: number, stride: number, dilation: number, groups: number, loc: Loc): PlannedLayer => {
  const p = k === 1 ? 0 : dilation * Math.floor((k - 1) / 2);
  return { local, op: 'conv', attrs: { filters, kernel: [k, k], stride: [stride, stride], padding: [p, p, p, p], dilation: [dilation, dilation], groups, bias: false }, loc };
};
const bn = (local: string, loc: Loc, last = false): PlannedLayer => ({ local, op: 'bn', attrs: { epsilon: 1e-5, momentum: 0.1, ...(last ? { blockLast: true } : {}) }, loc });
const relu = (local: string, loc: Loc): PlannedLayer => ({ local, op: 'relu', attrs: {}, loc });
const se = (s: StageAst, ctx: Pick<BlockContext, 'inChannels'>): PlannedLayer[] =>
  s.se ? [{ local: 'se', op: 'se', attrs: { ...seWidth(s.se, ctx), ...(s.se.activation ? { activation: s.se.activation } : {}), ...(s.se.gate ? { gate: s.se.gate } : {}) }, loc: s.se.loc }] : [];

/** Plans a built-in block (torchvision names: conv1, bn1, ..., and relu1.. for its activations). */
export function planBuiltin(kind: string, ctx: BlockContext, bag: DiagnosticBag): BlockPlan | undefined {
  const s = ctx.stage;
  const stride = ctx.index === 0 ? s.stride : 1;
  // timm's convention (torchvision's too, for bottlenecks): the conv that takes the stride uses
  // the stage's first dilation in block 0 (by default the previous stage's), the rest `dilation`.
  const d = s.dilation;
  const d0 = ctx.index === 0 ? s.firstDilation : s.dilation;
  const loc = s.loc;
  switch (kind) {
    case 'basic':
    case 'preact_basic': {
      if (s.groups !== 1 || s.widthPerGroup !== 64) {
        const at = s.groups !== 1 ? s.fieldLocs.groups : s.fieldLocs.width_per_group;
        bag.error('invalid-value', `"${kind}" blocks support only groups: 1 and width_per_group: 64 (as torchvision's BasicBlock).`, at ?? loc, 'Use block: bottleneck for ResNeXt and Wide ResNet.');
        return undefined;
      }
      if (kind === 'basic') {
        return {
          pre: [],
          main: [conv('conv1', s.channels, 3, stride, d0, 1, loc), bn('bn1', loc), relu('relu1', loc), conv('conv2', s.channels, 3, 1, d, 1, loc), bn('bn2', loc, true), ...se(s, ctx)],
          post: relu('relu2', loc),
          stride,
          preact: false,
        };
      }
      return {
        pre: [bn('bn1', loc), relu('relu1', loc)],
        main: [conv('conv1', s.channels, 3, stride, d0, 1, loc), bn('bn2', loc), relu('relu2', loc), conv('conv2', s.channels, 3, 1, d, 1, loc), ...se(s, ctx)],
        post: null,
        stride,
        preact: true,
      };
    }
    case 'regnet_x':
    case 'regnet_y':
      return planRegNet(kind, ctx, bag);
    case 'bottleneck':
    case 'preact_bottleneck': {
      const width = bottleneckWidth(s.channels, s.widthPerGroup, s.groups);
      if (width < 1) {
        bag.error('out-of-range', `The bottleneck width int(${s.channels} * ${s.widthPerGroup} / 64) * ${s.groups} is 0.`, s.fieldLocs.width_per_group ?? loc, 'Raise channels or width_per_group.');
        return undefined;
      }
      const out = s.channels * 4;
      if (kind === 'bottleneck') {
        return {
          pre: [],
          main: [
            conv('conv1', width, 1, 1, 1, 1, loc),
            bn('bn1', loc),
            relu('relu1', loc),
            conv('conv2', width, 3, stride, d0, s.groups, loc),
            bn('bn2', loc),
            relu('relu2', loc),
            conv('conv3', out, 1, 1, 1, 1, loc),
            bn('bn3', loc, true),
            ...se(s, ctx),
          ],
          post: relu('relu3', loc),
          stride,
          preact: false,
        };
      }
      return {
        pre: [bn('bn1', loc), relu('relu1', loc)],
        main: [conv('conv1', width, 1, 1, 1, 1, loc), bn('bn2', loc), relu('relu2', loc), conv('conv2', width, 3, stride, d0, s.groups, loc), bn('bn3', loc), relu('relu3', loc), conv('conv3', out, 1, 1, 1, 1, loc), ...se(s, ctx)],
        post: null,
        stride,
        preact: true,
      };
    }
  }
  return undefined;
}

/**
 * Plans a user-defined block: its parameters are bound ($channels, $stride, $in, $groups,
 * $width_per_group, $dilation, $first_dilation, $index, $classes, then the block's own `params` with the stage's
 * values), its layers are resolved, and `use` layers inline other blocks (a cycle is an error).
 */
export function planUser(def: BlockDefAst, defs: ReadonlyMap<string, BlockDefAst>, ctx: BlockContext, bag: DiagnosticBag): BlockPlan | undefined {
  const s = ctx.stage;
  const stride = ctx.index === 0 ? s.stride : 1;
  const env: Env = new Map([
    ...(ctx.network ?? []),
    ['channels', s.channels],
    ['stride', stride],
    ['in', ctx.inChannels],
    ['groups', s.groups],
    ['width_per_group', s.widthPerGroup],
    ['dilation', s.dilation],
    // timm's first_dilation: for the block's strided conv (the stage's first dilation in block 0).
    ['first_dilation', ctx.index === 0 ? s.firstDilation : s.dilation],
    ['index', ctx.index],
    ...(ctx.classes === undefined ? [] : ([['classes', ctx.classes]] as const)),
  ]);
  if (!declare(def, env, bag)) return undefined;
  for (const [k, v] of Object.entries(s.params)) {
    // Own keys only: `k in def.params` took "toString" and "valueOf" for declared parameters.
    if (!Object.hasOwn(def.params, k)) {
      const declared = Object.keys(def.params);
      bag.error('expr-unknown-param', `The block "${def.name}" has no parameter "${k}".`, s.fieldLocs.params ?? s.loc, declared.length ? `Its parameters: ${declared.join(', ')}.` : `Declare it under blocks.${def.name}.params.`);
      return undefined;
    }
    env.set(k, v);
  }
  // Sized before expanding: blocks that `use` each other several times multiply.
  const size = expandedSize(def, defs, new Map(), []);
  if (ctx.maxLayers !== undefined && size > ctx.maxLayers) {
    bag.error('limit-exceeded', `The block "${def.name}" expands to ${size.toLocaleString('en-US')} layers (its "use" layers nest), over the limit of ${ctx.maxLayers.toLocaleString('en-US')} nodes.`, s.loc, 'If this is intended, raise it with --max-nodes (API: limits.maxNodes).');
    return undefined;
  }
  const namer = new Namer();
  // `pre:` layers (pre-activation) come first, named in the same scope (bn1, relu, then conv1, bn2, ...).
  const pre = expandUser({ ...def, layers: def.pre }, defs, env, namer, [def.name], bag);
  const main = expandUser(def, defs, env, namer, [def.name], bag);
  if (!main || !pre) return undefined;
  // Named by the same namer: a block that has its own `se` layer gets the stage's as se2.
  if (s.se) main.push(...se(s, ctx).map((l) => ({ ...l, local: namer.next('se') })));
  const post = def.post === 'none' ? null : { local: `${def.post}_out`, op: def.post as ActivationOp, attrs: {}, loc: def.loc };
  // With `pre:`, the projection reads the pre-activated input and has no BN (ResNet v2, Wide ResNet).
  return { pre, main, post, stride, preact: pre.length > 0 };
}

/**
 * Parameters every user block sees and none may declare: a declared `stride` would silently stand
 * for something else than the stage's stride (the class of issue 24's hidden macro parameter).
 */
export const BUILTIN_PARAMS = ['channels', 'stride', 'in', 'groups', 'width_per_group', 'dilation', 'first_dilation', 'index', 'classes', 'width_mult', 'depth_mult'];

/**
 * Binds a block's declared parameters in `env`: a name that already has a value there (from the
 * caller, the network's `params`, or a `use`) keeps it; the others take their defaults. A declared
 * built-in name is an error at its declaration.
 */
function declare(def: BlockDefAst, env: Env, bag: DiagnosticBag): boolean {
  for (const [k, v] of Object.entries(def.params)) {
    if (BUILTIN_PARAMS.includes(k)) {
      bag.error('param-shadowed', `The block "${def.name}" declares the parameter "${k}", which would hide the built-in $${k}.`, def.paramLocs[k] ?? def.loc, 'Give the parameter another name; $' + k + ' is always the value docs/dsl.md describes.');
      return false;
    }
    if (!env.has(k)) env.set(k, v);
  }
  return true;
}

/** A value a `use` passes: a number, or an expression evaluated in the caller's scope. */
function useValue(a: NumArg, env: Env, bag: DiagnosticBag): number | undefined {
  if (a.kind === 'num') return a.value;
  for (const p of exprParams(a.expr)) if (Number.isNaN(env.get(p))) return UNKNOWN;
  const r = evaluate(a.expr, env);
  if (typeof r === 'number') return r;
  bag.error(r.code, `In "${a.source}": ${r.message}.`, a.loc, r.code === 'expr-unknown-param' ? `Parameters here: ${[...env.keys()].map((k) => '$' + k).join(', ')}.` : undefined);
  return undefined;
}

/** Layers a user block expands to (memoised per block; cycles and unknown blocks count 0, expandUser reports them). */
function expandedSize(def: BlockDefAst, defs: ReadonlyMap<string, BlockDefAst>, memo: Map<string, number>, stack: string[]): number {
  const known = memo.get(def.name);
  if (known !== undefined) return known;
  let n = 0;
  for (const layer of def.layers) {
    if (layer.op !== 'use') n += 1;
    else {
      const inner = defs.get(layer.use!.block);
      if (inner && !stack.includes(inner.name) && inner.name !== def.name) n += expandedSize(inner, defs, memo, [...stack, def.name]);
    }
  }
  memo.set(def.name, n);
  return n;
}

function expandUser(def: BlockDefAst, defs: ReadonlyMap<string, BlockDefAst>, env: Env, namer: Namer, stack: string[], bag: DiagnosticBag): PlannedLayer[] | undefined {
  const out: PlannedLayer[] = [];
  let ok = true;
  for (const layer of def.layers) {
    if (layer.op === 'use') {
      const name = layer.use!.block;
      const inner = defs.get(name);
      if (!inner) {
        bag.error('unknown-block', `"use" names the block "${name}", which is not defined under blocks:.`, layer.use!.blockLoc, didYouMean(name, defs.keys()));
        ok = false;
        continue;
      }
      if (stack.includes(inner.name)) {
        bag.add({
          code: 'block-cycle',
          severity: 'error',
          message: `The block "${inner.name}" uses itself: ${[...stack, inner.name].join(' -> ')}.`,
          loc: layer.loc,
          hint: 'A block may use other blocks, but not in a loop.',
          related: [{ message: `"${inner.name}" is defined here`, loc: inner.loc }],
        });
        return undefined;
      }
      // The scoping rule (docs/dsl.md, "Parameters and scope"): the inner block sees its caller's
      // parameters; each parameter it declares takes the value `use` passes (evaluated in the
      // caller's scope), else the caller's value of that name (it flows in), else its default.
      const innerEnv: Env = new Map(env);
      for (const [k, a] of Object.entries(layer.use!.params)) {
        if (!Object.hasOwn(inner.params, k)) {
          bag.error('expr-unknown-param', `The block "${inner.name}" has no parameter "${k}".`, layer.use!.blockLoc, `Declare it under blocks.${inner.name}.params.`);
          return undefined;
        }
        const v = useValue(a, env, bag);
        if (v === undefined) return undefined;
        innerEnv.set(k, v);
      }
      if (!declare(inner, innerEnv, bag)) return undefined;
      const layers = expandUser(inner, defs, innerEnv, namer, [...stack, inner.name], bag);
      if (!layers) return undefined;
      // One by one: spreading ~196,000 layers into push() overflowed the stack.
      for (const l of layers) out.push(l);
      continue;
    }
    const p = planLayer(layer, env, namer, bag);
    if (p) out.push(p);
    else ok = false;
  }
  return ok ? out : undefined;
}
