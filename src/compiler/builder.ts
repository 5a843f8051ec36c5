import type { DiagnosticBag, Loc } from '../parser/index.js';
import { countMacs, countParams } from './count.js';
import { LIMIT_FLAGS } from './limits.js';
import { inferShape, isShapeError } from './shapes.js';
import type { GraphNode, Insertion, NoAttrs, OpAttrs, OpKind } from './types.js';

interface SpecBase {
  id: string;
  inputs: string[];
  loc: Loc;
  inserted?: Insertion;
  path?: 'main' | 'shortcut';
  stage?: string;
  block?: number;
  /** Extra lines for a shape error (the stage that set a value, say). */
  related?: { message: string; loc: Loc }[];
}

/** What to add: an op with its typed attributes (optional for ops that have none). */
export type NodeSpec = { [K in OpKind]: SpecBase & { op: K } & (OpAttrs[K] extends NoAttrs ? { attrs?: NoAttrs } : { attrs: OpAttrs[K] }) }[OpKind];

/**
 * Appends nodes in order, inferring each output shape and counting params and MACs as it goes.
 * Since a node can only use nodes added before it, the list is topologically ordered by
 * construction. A node whose shape cannot be inferred is reported and not added; the caller
 * stops the branch there (returns undefined).
 */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private readonly byId = new Map<string, GraphNode>();

  /** `maxNodes` is enforced as nodes are added, so an oversized graph is refused before it is built. */
  constructor(
    private readonly bag: DiagnosticBag,
    private readonly maxNodes = Infinity,
  ) {}

  get(id: string): GraphNode | undefined {
    return this.byId.get(id);
  }

  add(spec: NodeSpec): string | undefined {
    if (this.nodes.length >= this.maxNodes) {
      this.bag.error('limit-exceeded', `Nodes in the graph: more than ${this.maxNodes.toLocaleString('en-US')} (the limit), reached at ${spec.id}.`, spec.loc, `If this is intended, raise it with ${LIMIT_FLAGS.maxNodes} (API: limits.maxNodes).`);
      return undefined;
    }
    if (this.byId.has(spec.id)) {
      this.bag.add({
        code: 'invalid-value',
        severity: 'error',
        message: `The node name "${spec.id}" is used twice.`,
        loc: spec.loc,
        hint: 'Give the layer a unique `name`.',
        related: [{ message: 'first used here', loc: this.byId.get(spec.id)!.loc }],
      });
      return undefined;
    }
    const attrs = spec.attrs ?? {};
    const inputShapes = spec.inputs.map((i) => this.byId.get(i)!.shape);
    const shape = inferShape(spec.op, attrs, inputShapes);
    if (isShapeError(shape)) {
      this.bag.add({ code: shape.code, severity: 'error', message: `${spec.id}: ${shape.message}`, loc: spec.loc, hint: shape.hint, related: spec.related });
      return undefined;
    }
    // The spec's op and attrs are a matching pair (NodeSpec is keyed by op); TS cannot follow the pair through `??`.
    const node = {
      id: spec.id,
      op: spec.op,
      attrs,
      inputs: spec.inputs,
      shape,
      params: countParams(spec.op, attrs, inputShapes, shape),
      macs: countMacs(spec.op, attrs, inputShapes, shape),
      loc: spec.loc,
    } as GraphNode;
    if (spec.inserted) node.inserted = spec.inserted;
    if (spec.path) node.path = spec.path;
    if (spec.stage !== undefined) node.stage = spec.stage;
    if (spec.block !== undefined) node.block = spec.block;
    this.nodes.push(node);
    this.byId.set(node.id, node);
    return node.id;
  }

  shapeOf(id: string): number[] {
    return this.byId.get(id)!.shape;
  }
}
