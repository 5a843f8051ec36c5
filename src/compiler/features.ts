import { didYouMean, type DiagnosticBag, type FeatureAst } from '../parser/index.js';
import { UserError } from '../errors/index.js';
import type { ClassifierGraph, CompiledGraph, Feature, GraphNode, StageSummary } from './types.js';

/**
 * A backbone's outputs (`features:`): each name is a stage (its last block's output, as timm's
 * feature_info and torchvision's create_feature_extractor name `layer1`) or a node id (a stem node
 * such as `relu` or `maxpool`). Every bad item is reported at its line; undefined when any is.
 */
export function resolveFeatures(
  written: readonly FeatureAst[],
  nodes: ReadonlyMap<string, GraphNode>,
  stageOutputs: ReadonlyMap<string, string>,
  inputHeight: number,
  bag: DiagnosticBag,
): Feature[] | undefined {
  const out: Feature[] = [];
  let ok = true;
  for (const f of written) {
    const id = stageOutputs.get(f.name) ?? (nodes.has(f.name) ? f.name : undefined);
    const node = id === undefined ? undefined : nodes.get(id);
    if (!node) {
      const stages = [...stageOutputs.keys()];
      const guess = didYouMean(f.name, [...stages, ...nodes.keys()]);
      bag.error('unknown-feature', `features: "${f.name}" is neither a stage nor a node of this network.`, f.loc, `${guess ? `${guess} ` : ''}Stages: ${stages.join(', ')}; a node id (conv1, maxpool, ...) names one map ("skipgraph compile" lists them).`);
      ok = false;
      continue;
    }
    if (node.shape.length !== 3) {
      bag.error('feature-not-a-map', `features: "${f.name}" is a flat [${node.shape.join('x')}] tensor, not a [height, width, channels] map.`, f.loc, 'Name a stage or a node before any flatten or pooling.');
      ok = false;
      continue;
    }
    const same = out.find((o) => o.node === node.id);
    if (same) {
      bag.error('duplicate-feature', `features: "${f.name}" is the same map as "${same.name}" (node ${node.id}).`, f.loc, 'Each map is returned once; remove one of them.');
      ok = false;
      continue;
    }
    const [h, , c] = node.shape;
    out.push({ name: f.name, node: node.id, channels: c, reduction: inputHeight / h, shape: [...node.shape], loc: f.loc });
  }
  return ok ? out : undefined;
}

/**
 * The nodes a backbone needs: those some feature depends on, in their order. The rest (stages
 * after the last feature) are dropped, as timm's features_only truncates the network there, so
 * counts, exports and state_dicts hold only what runs.
 */
export function keepNeeded(nodes: readonly GraphNode[], features: readonly Feature[], stages: readonly StageSummary[]): { nodes: GraphNode[]; stages: StageSummary[] } {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const needed = new Set<string>();
  const todo = features.map((f) => f.node);
  while (todo.length) {
    const id = todo.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    todo.push(...byId.get(id)!.inputs);
  }
  const kept = nodes.filter((n) => needed.has(n.id));
  const keptStages = new Set(kept.map((n) => n.stage));
  return { nodes: kept, stages: stages.filter((s) => keptStages.has(s.name)) };
}

/** The ids of the nodes whose outputs leave the model: the logits, or every feature's node. */
export function outputNodes(g: CompiledGraph): string[] {
  return g.kind === 'classifier' ? [g.output] : g.features.map((f) => f.node);
}

/**
 * The graph as a classifier, for what needs logits (training on labels, top-k, a classifier's
 * weights); a backbone is refused with what to do instead.
 */
export function requireClassifier(g: CompiledGraph, what: string): ClassifierGraph {
  if (g.kind === 'classifier') return g;
  throw new UserError(
    `${g.file} is a backbone (features: ${g.features.map((f) => f.name).join(', ')}): it returns feature maps, not class scores, so ${what} cannot use it. ` +
      'Compile a classifier for this (a head and classes instead of features), or use the backbone through compile, export or infer.',
  );
}
