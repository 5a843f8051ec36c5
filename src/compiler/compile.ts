import { Graph } from '@dagrejs/graphlib';
import { InternalError, type ArchitectureAst, type DiagnosticBag, type StageAst } from '../parser/index.js';
import { EXPANSION, planBuiltin, planUser, type BlockPlan } from './blocks.js';
import { GraphBuilder, type NodeSpec } from './builder.js';
import { Namer, planLayer, UNKNOWN, type Env, type PlannedLayer } from './layers.js';
import { blameSet, checkActivationMemory, checkLimit, DEFAULT_BATCH, DEFAULT_LIMITS, type Limits } from './limits.js';
import { inferShape, isShapeError } from './shapes.js';
import { nodeActivations } from './count.js';
import { blockPrefix, expandDesigns, roundHalfEven } from './regnet.js';
import { buildShortcut, hasResidual } from './shortcut.js';
import { applyScaling, BlockNumbering, dropPathRate, networkEnv } from './network.js';
import { keepNeeded, resolveFeatures } from './features.js';
import type { BackboneGraph, ClassifierGraph, CompiledGraph, ConvAttrs, EdgeLabel, GraphNode, StageSummary } from './types.js';

export interface CompileAstOptions {
  limits?: Partial<Limits>;
  /** Batch size for the activation-memory estimate (default DEFAULT_BATCH, 32). */
  batch?: number;
  /** The `--set` arguments, to name the one a limit error comes from. */
  sets?: readonly string[];
  /** Filled with the checks that could not run because of earlier errors (one line says so). */
  skipped?: string[];
}

type Meta = Pick<NodeSpec, 'path' | 'stage' | 'block'>;

/**
 * AST -> checked graph: expand every stage into blocks, infer every shape, apply the shortcut
 * rule, count params and MACs. Errors go to `bag`; returns undefined when there are any.
 *
 * Every error that can be found in one run is: the stem's layers are all planned, a stage with an
 * error does not stop the stages after it (they are planned and checked for what does not depend
 * on the shapes coming in: block kinds, parameters, expressions, stride with dilation), and the
 * head's expressions are still evaluated. What truly depends on a broken part (the shapes after it,
 * the resource limits) is listed in `opts.skipped`.
 */
export function compileAst(written: ArchitectureAst, bag: DiagnosticBag, opts: CompileAstOptions = {}): CompiledGraph | undefined {
  // `{ regnet: ... }` items become the stages they generate, before anything counts stages.
  const ast = applyScaling(expandDesigns(written, bag));
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const partial = ast.partial;
  const skipped = opts.skipped ?? [];
  const totalBlocks = ast.stages.reduce((n, s) => n + s.blocks, 0);
  const blocksLoc = blameSet(ast.fieldLocs.stages ?? ast.loc, ast.stages.map((s) => s.fieldLocs.blocks));
  if (!checkLimit('maxBlocks', totalBlocks, limits, 'Blocks after expansion', blocksLoc, bag, opts.sets)) return undefined;

  const b = new GraphBuilder(bag, limits.maxNodes);
  const { height, width, channels } = ast.input;
  let cur: string | undefined = partial?.input ? undefined : b.add({ id: 'input', op: 'input', inputs: [], attrs: { shape: [height, width, channels] }, loc: ast.input.loc });
  const topEnv = networkEnv(ast, bag);
  if (!topEnv) return undefined;
  const unchecked: string[] = [];

  // Stem and head share the top-level scope, so one namer: a head `dropout` after a stem `dropout` is dropout2.
  const topNamer = new Namer();
  const stem = planAll(ast.stem, topEnv, topNamer, bag);
  if (!stem || partial?.stem) cur = undefined;
  else if (cur) cur = emitPlanned(b, stem, cur, '', {}, bag);
  const stages: StageSummary[] = [];
  // Each stage's last node (a flat-numbered name: its last stage's), for `features:`.
  const stageOutputs = new Map<string, string>();
  const numbering = new BlockNumbering();
  for (const stage of ast.stages) {
    const broken = partial?.stages.includes(stage.index) || partial?.blocks.includes(stage.block);
    if (cur && !broken) {
      cur = emitStage(b, ast, stage, cur, { limits, network: topEnv, numbering }, bag);
      if (cur) addStage(stages, { name: stageName(stage), blocks: stage.blocks, shape: b.shapeOf(cur), loc: stage.loc }, stage);
      if (cur) stageOutputs.set(stageName(stage), cur);
      continue;
    }
    cur = undefined;
    if (!broken) checkStageAlone(ast, stage, limits, topEnv, bag);
    unchecked.push(`the shapes of ${stageName(stage)}`);
  }
  const head = planAll(ast.head, topEnv, topNamer, bag);
  if (cur && head && !partial?.head) cur = emitPlanned(b, head, cur, '', {}, bag);
  else {
    cur = undefined;
    // A backbone has no head: what waits is its features' names and maps.
    unchecked.push(ast.features ? 'the features' : "the head's shapes");
  }
  if (!cur || bag.hasErrors) {
    if (bag.hasErrors && unchecked.length) skipped.push(...unchecked, 'the resource limits');
    return undefined;
  }
  if (!checkLimit('maxNodes', b.nodes.length, limits, 'Nodes in the graph', ast.loc, bag)) return undefined;
  // A backbone returns its features and keeps only the nodes they need.
  const features = ast.features && resolveFeatures(ast.features, new Map(b.nodes.map((n) => [n.id, n])), stageOutputs, height, bag);
  if (ast.features && !features) return undefined;
  const kept = features ? keepNeeded(b.nodes, features, stages) : { nodes: b.nodes, stages };

  const batch = opts.batch ?? DEFAULT_BATCH;
  const totals = { params: 0, trainableParams: 0, nonTrainableParams: 0, macs: 0, activationBytes: 0, batch, activationBytesAtBatch: 0, flops: 0, activations: 0 };
  for (const n of kept.nodes) {
    totals.trainableParams += n.params.trainable;
    totals.nonTrainableParams += n.params.nonTrainable;
    totals.macs += n.macs;
    // The input counts: it is allocated (and held for the first conv's gradient) as any other output.
    totals.activationBytes += 4 * n.shape.reduce((p, q) => p * q, 1);
    totals.activations += nodeActivations(n);
  }
  totals.flops = 2 * totals.macs;
  totals.params = totals.trainableParams + totals.nonTrainableParams;
  totals.activationBytesAtBatch = totals.activationBytes * batch;
  const sizeLocs = ast.stages.flatMap((s) => [s.fieldLocs.channels, s.fieldLocs.blocks, s.fieldLocs.groups, s.fieldLocs.width_per_group]);
  if (!checkLimit('maxParams', totals.params, limits, 'Parameters', blameSet(ast.loc, sizeLocs), bag, opts.sets)) return undefined;
  const inputLocs = Object.values(ast.input.fieldLocs ?? {});
  const memoryLoc = blameSet(ast.input.loc, [...inputLocs, ...sizeLocs, ...ast.stages.map((s) => s.fieldLocs.stride)]);
  const explicit = opts.limits?.maxActivationBytes !== undefined;
  if (!checkActivationMemory(totals.activationBytes, batch, limits, memoryLoc, bag, { explicit, sets: opts.sets })) return undefined;

  checkOrder(kept.nodes);
  const base = { name: ast.name, input: { height, width, channels }, nodes: kept.nodes, totals, stages: kept.stages, file: ast.file };
  if (features) return withLazyGraph({ ...base, kind: 'backbone', features });
  // The parser refuses a classifier without classes; a broken invariant otherwise.
  if (ast.classes === undefined) throw new InternalError('a classifier without classes reached the compiler');
  return withLazyGraph({ ...base, kind: 'classifier', classes: ast.classes, output: cur });
}

/** Plans every layer of a list (so each bad one is reported); undefined when any failed. */
function planAll(layers: ArchitectureAst['stem'], env: Env, namer: Namer, bag: DiagnosticBag): PlannedLayer[] | undefined {
  const planned: PlannedLayer[] = [];
  let ok = true;
  for (const l of layers) {
    if (l.op === 'use') {
      bag.error('invalid-value', '"use" inlines a block and works only inside blocks: definitions.', l.opLoc);
      ok = false;
      continue;
    }
    // In a block a name may start with a digit (features.2.0: the id starts with the stage's name);
    // here it is the whole node id, and TF.js and Python need a letter first.
    if (l.name !== undefined && !/^[A-Za-z]/.test(l.name)) {
      bag.error('invalid-value', `"${l.name}" is not a valid node name: in the stem and the head a layer's name is its whole node id, which starts with a letter.`, l.loc, 'Name it as torchvision does (features.0.0, classifier.1).');
      ok = false;
      continue;
    }
    const p = planLayer(l, env, namer, bag);
    if (p) planned.push(p);
    else ok = false;
  }
  return ok ? planned : undefined;
}

/**
 * The checks of a stage that need nothing from the stages before it, for a stage whose input is
 * unknown (an earlier part has errors): its block kind and fields, its user block's parameters and
 * expressions (those that use `$in` wait), and each conv's own attributes (stride with dilation,
 * groups that do not divide the filters). Blocks 0 and 1 cover every distinct block of a stage.
 */
function checkStageAlone(ast: ArchitectureAst, stage: StageAst, limits: Limits, network: Env, bag: DiagnosticBag): void {
  const user = ast.blocks.get(stage.block);
  if (!user && !(stage.block in EXPANSION)) return; // reported by the parser
  for (let i = 0; i < Math.min(stage.blocks, 2); i++) {
    const ctx = { stage, index: i, inChannels: UNKNOWN, classes: ast.partial?.classes ? UNKNOWN : ast.classes, network, maxLayers: limits.maxNodes };
    const plan = user ? planUser(user, ast.blocks, ctx, bag) : planBuiltin(stage.block, ctx, bag);
    if (!plan) return;
    const prefix = blockPrefix(stageName(stage), stage, i);
    for (const l of [...plan.pre, ...plan.main]) {
      if (l.op !== 'conv') continue;
      // An input that fits any conv: only the conv's own attributes can fail.
      const shape = inferShape('conv', l.attrs, [[1 << 16, 1 << 16, l.attrs.groups]]);
      if (isShapeError(shape)) {
        bag.add({ code: shape.code, severity: 'error', message: `${prefix}${l.local}: ${shape.message}`, loc: l.loc, hint: shape.hint });
        return;
      }
    }
  }
}

export function stageName(s: StageAst): string {
  return s.name ?? `layer${s.index + 1}`;
}

interface StageScope {
  limits: Limits;
  network: Env;
  numbering: BlockNumbering;
}

function emitStage(b: GraphBuilder, ast: ArchitectureAst, stage: StageAst, input: string, scope: StageScope, bag: DiagnosticBag): string | undefined {
  const name = stageName(stage);
  const user = ast.blocks.get(stage.block);
  if (!user && !(stage.block in EXPANSION)) return undefined; // reported by the parser
  const prefixes = scope.numbering.prefixes(name, stage, bag);
  if (!prefixes) return undefined;
  let cur = input;
  for (let i = 0; i < stage.blocks; i++) {
    const ctx = { stage, index: i, inChannels: b.shapeOf(cur)[2] ?? 0, classes: ast.classes, network: scope.network, maxLayers: scope.limits.maxNodes };
    if (b.shapeOf(cur).length !== 3) {
      bag.error('shape-mismatch', `Stage ${name} needs a [height, width, channels] map, but gets a flat [${b.shapeOf(cur).join('x')}] tensor.`, stage.loc, 'Flatten and pool in the head, after the stages.');
      return undefined;
    }
    const plan = user ? planUser(user, ast.blocks, ctx, bag) : planBuiltin(stage.block, ctx, bag);
    if (!plan) return undefined;
    // Under flat numbering a block is known by its number (features.5), as in its node ids.
    const label = stage.numbering === 'flat' ? Number(prefixes[i].slice(name.length + 1, -1)) : i;
    const next = emitBlock(b, plan, cur, prefixes[i], stage, label, bag, dropPathRate(ast, stage, i));
    if (!next) return undefined;
    cur = next;
  }
  return cur;
}

/**
 * Flat-numbered stages of one name (MobileNetV2's features.1 .. features.17) are one stage of the
 * summary, as they are one nn.Sequential in torchvision: their blocks add up.
 */
function addStage(stages: StageSummary[], s: StageSummary, stage: StageAst): void {
  const last = stages[stages.length - 1];
  if (stage.numbering === 'flat' && last?.name === s.name) {
    last.blocks += s.blocks;
    last.shape = s.shape;
  } else stages.push(s);
}

function emitBlock(b: GraphBuilder, plan: BlockPlan, x: string, prefix: string, stage: StageAst, index: number, bag: DiagnosticBag, dropPath = 0): string | undefined {
  const stage_ = stageName(stage);
  const meta = { stage: stage_, block: index };
  const xPre = emitPlanned(b, plan.pre, x, prefix, { ...meta, path: 'main' }, bag);
  if (!xPre) return undefined;
  let main = emitPlanned(b, plan.main, xPre, prefix, { ...meta, path: 'main' }, bag);
  if (!main) return undefined;
  // No residual at all (shortcut none, or identity_or_none where the shapes differ): the block is
  // its main path, then its post activation; no add and no drop_path (torchvision's MBConv).
  if (!hasResidual(stage.shortcut, b.shapeOf(x), b.shapeOf(main))) return plan.post ? emitPlanned(b, [plan.post], main, prefix, meta, bag) : main;
  // Stochastic depth on the residual branch, before the add (timm's DropPath); no node at rate 0.
  if (dropPath > 0) main = b.add({ id: `${prefix}drop_path`, op: 'drop_path', inputs: [main], attrs: { rate: dropPath }, loc: stage.fieldLocs.drop_path ?? stage.loc, ...meta, path: 'main' });
  if (!main) return undefined;
  const shortcut = buildShortcut(
    b,
    { rule: stage.shortcut, ruleLoc: stage.fieldLocs.shortcut ?? stage.loc, x, xPre, main, prefix, ids: plan.shortcutIds, stride: plan.stride, preact: plan.preact, stage: stage_, block: index, blockLoc: stage.loc },
    bag,
  );
  if (!shortcut) return undefined;
  const add = b.add({ id: `${prefix}add`, op: 'add', inputs: [main, shortcut], loc: stage.loc, ...meta });
  if (!add || !plan.post) return add;
  return emitPlanned(b, [plan.post], add, prefix, meta, bag);
}

/** Emits planned layers in a chain; `se` becomes its six nodes. */
function emitPlanned(b: GraphBuilder, layers: PlannedLayer[], input: string, prefix: string, meta: Meta, bag: DiagnosticBag): string | undefined {
  let cur: string | undefined = input;
  for (const l of layers) {
    if (!cur) return undefined;
    if (l.op === 'se') cur = emitSe(b, l, cur, prefix, meta, bag);
    else cur = b.add({ ...l, id: prefix + l.local, inputs: [cur], ...meta });
  }
  return cur;
}

/** Squeeze-and-excitation (Hu et al.): pool, 1x1 conv to C/r, ReLU, 1x1 conv to C, sigmoid (or MobileNetV3's hardsigmoid), scale. */
function emitSe(b: GraphBuilder, l: Extract<PlannedLayer, { op: 'se' }>, x: string, prefix: string, meta: Meta, bag: DiagnosticBag): string | undefined {
  const shape = b.shapeOf(x);
  if (shape.length !== 3) {
    bag.error('shape-mismatch', `"se" needs a [height, width, channels] map, but gets [${shape.join('x')}].`, l.loc);
    return undefined;
  }
  const c = shape[2];
  // A fixed squeeze width (RegNet-Y: round(0.25 * the block's input)), else the SE input's channels // reduction.
  const ratio = l.attrs.ratio as number | undefined;
  const rd = typeof l.attrs.squeeze === 'number' ? l.attrs.squeeze : ratio !== undefined ? Math.max(1, roundHalfEven(ratio * c)) : Math.max(1, Math.floor(c / (l.attrs.reduction as number)));
  const names = (l.attrs.names ?? {}) as Record<string, string | undefined>;
  const p = `${prefix}${l.local}.`;
  const spec = { loc: l.loc, ...meta };
  const conv1x1 = (filters: number): ConvAttrs => ({ filters, kernel: [1, 1], stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, bias: true });
  const pool = b.add({ ...spec, id: `${p}${names.pool ?? 'pool'}`, op: 'global_avg_pool', inputs: [x], attrs: { keepdims: true } });
  const fc1 = pool && b.add({ ...spec, id: `${p}${names.fc1 ?? 'fc1'}`, op: 'conv', inputs: [pool], attrs: conv1x1(rd) });
  // The inner activation (relu, EfficientNet's silu), named after its op unless the family names it.
  const actOp = l.attrs.activation ?? 'relu';
  const act = fc1 && b.add({ ...spec, id: `${p}${names.relu ?? actOp}`, op: actOp, inputs: [fc1] });
  const fc2 = act && b.add({ ...spec, id: `${p}${names.fc2 ?? 'fc2'}`, op: 'conv', inputs: [act], attrs: conv1x1(c) });
  const gate = fc2 && b.add({ ...spec, id: `${p}${names.gate ?? 'gate'}`, op: l.attrs.gate ?? 'sigmoid', inputs: [fc2] });
  return gate && b.add({ ...spec, id: `${p}scale`, op: 'mul', inputs: [x, gate] });
}

/**
 * The graphlib view of the nodes. The builder's order is topological by construction; this checks
 * it (a failure is a bug, not a user error).
 */
/**
 * Every edge must go from an earlier node to a later one, which also proves the graph acyclic.
 * (graphlib's alg.isAcyclic/findCycles recurse once per node and overflow the stack on deep
 * networks: 10,000 blocks is a valid file.) A failure is a skipgraph bug.
 */
function checkOrder(nodes: GraphNode[]): void {
  const position = new Map<string, number>();
  nodes.forEach((n, i) => position.set(n.id, i));
  for (const n of nodes) {
    for (const src of n.inputs) {
      if ((position.get(src) ?? Infinity) >= position.get(n.id)!) throw new InternalError(`node ${n.id} comes before its input ${src}`);
    }
  }
}

/** The graphlib view of the nodes (node label = GraphNode; edge label = shape and skip flag). */
function toGraphlib(name: string, nodes: GraphNode[]): Graph<{ name: string }, GraphNode, EdgeLabel> {
  const g = new Graph<{ name: string }, GraphNode, EdgeLabel>({ directed: true });
  g.setGraph({ name });
  const byId = new Map<string, GraphNode>();
  for (const n of nodes) {
    g.setNode(n.id, n);
    byId.set(n.id, n);
  }
  for (const n of nodes) {
    n.inputs.forEach((src, k) => {
      // The skip path: into the add from the shortcut side, and along inserted shortcut nodes.
      const skip = (n.op === 'add' && k === 1) || n.path === 'shortcut';
      g.setEdge(src, n.id, { shape: byId.get(src)!.shape, skip });
    });
  }
  return g;
}

/**
 * Sets `graph` as a lazily built property: half of a warm compile went into graphlib, and only
 * the drawing printers and API users who ask for it need the graph.
 */
function withLazyGraph(compiled: Omit<ClassifierGraph, 'graph'> | Omit<BackboneGraph, 'graph'>): CompiledGraph {
  let cached: CompiledGraph['graph'] | undefined;
  return Object.defineProperty(compiled, 'graph', {
    enumerable: true,
    get: () => (cached ??= toGraphlib(compiled.name, compiled.nodes)),
  }) as CompiledGraph;
}
