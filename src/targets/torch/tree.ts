/**
 * The module tree: the node ids' dotted prefixes as nested regions (`layer2.0.conv1` is the leaf
 * `conv1` of region `0` of region `layer2`), and what a region reads and gives outside.
 */
import { outputNodes } from '../../compiler/features.js';
import type { CompiledGraph, GraphNode } from '../../compiler/types.js';
import { TorchEmitError } from './error.js';

export interface Leaf {
  kind: 'leaf';
  name: string;
  node: GraphNode;
}

export interface Region {
  kind: 'region';
  /** Attribute name in the parent ('' for the root). */
  name: string;
  /** Dotted path ('' for the root). */
  path: string;
  children: Map<string, Leaf | Region>;
  /** Every node of the subtree, in graph order. */
  nodes: GraphNode[];
}

export type Child = Leaf | Region;

/** Where the values a node uses come from, and who uses each value. */
export interface GraphIndex {
  byId: Map<string, GraphNode>;
  position: Map<string, number>;
  users: Map<string, GraphNode[]>;
  /** The nodes whose values leave the model (the logits, or a backbone's features). */
  outputs: ReadonlySet<string>;
  /** A backbone's features' nodes in the file's order: the model's forward returns them as a list. */
  returns?: string[];
}

export function graphIndex(graph: CompiledGraph): GraphIndex {
  const users = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) users.set(i, [...(users.get(i) ?? []), n]);
  return {
    byId: new Map(graph.nodes.map((n) => [n.id, n])),
    position: new Map(graph.nodes.map((n, k) => [n.id, k])),
    users,
    outputs: new Set(outputNodes(graph)),
    ...(graph.kind === 'backbone' ? { returns: graph.features.map((f) => f.node) } : {}),
  };
}

/** Attributes nn.Module assigns after construction (`train()` sets `training`): a child module of that name would be replaced by a value. */
const HELD_BY_MODULE = new Set(['training']);

export function buildTree(graph: CompiledGraph): Region {
  const root: Region = { kind: 'region', name: '', path: '', children: new Map(), nodes: [] };
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    const segs = node.id.split('.');
    const held = segs.find((seg) => HELD_BY_MODULE.has(seg));
    const at = { code: 'torch-name', loc: node.loc, hint: 'rename the layer (or its stage)' } as const;
    if (held !== undefined) throw new TorchEmitError(`the node name ${JSON.stringify(node.id)} cannot be a PyTorch module name: every nn.Module sets its own attribute "${held}" (train() and eval() do), so a child module of that name breaks them; rename it`, at);
    let r = root;
    r.nodes.push(node);
    for (let i = 0; i < segs.length - 1; i++) {
      const seg = segs[i];
      let next = r.children.get(seg);
      if (next === undefined) {
        next = { kind: 'region', name: seg, path: segs.slice(0, i + 1).join('.'), children: new Map(), nodes: [] };
        r.children.set(seg, next);
      }
      if (next.kind === 'leaf') throw new TorchEmitError(`the node names ${JSON.stringify(next.node.id)} and ${JSON.stringify(node.id)} cannot both be PyTorch modules: one would hold the other; rename one of them`, at);
      next.nodes.push(node);
      r = next;
    }
    const last = segs[segs.length - 1];
    if (r.children.has(last)) throw new TorchEmitError(`the node names ${JSON.stringify(node.id)} and ${JSON.stringify(`${node.id}.*`)} cannot both be PyTorch modules: one would hold the other; rename one of them`, at);
    r.children.set(last, { kind: 'leaf', name: last, node });
  }
  return root;
}

export const nodesOf = (c: Child): GraphNode[] => (c.kind === 'leaf' ? [c.node] : c.nodes);

/** The values a set of nodes reads from outside, and those it gives outside, in graph order. */
export function boundary(nodes: GraphNode[], ix: GraphIndex): { inputs: string[]; outputs: string[] } {
  const inside = new Set(nodes.map((n) => n.id));
  const inputs: string[] = [];
  for (const n of nodes) for (const i of n.inputs) if (!inside.has(i) && !inputs.includes(i)) inputs.push(i);
  const outputs = nodes.filter((n) => ix.outputs.has(n.id) || (ix.users.get(n.id) ?? []).some((u) => !inside.has(u.id))).map((n) => n.id);
  return { inputs, outputs };
}

/**
 * A child region can be called as one module when it runs in one piece: everything it reads is
 * ready before its first node, and nothing outside reads its values before its last node.
 */
export function callable(r: Region, ix: GraphIndex): boolean {
  const first = ix.position.get(r.nodes[0].id)!;
  const last = ix.position.get(r.nodes[r.nodes.length - 1].id)!;
  const { inputs, outputs } = boundary(r.nodes, ix);
  if (outputs.length === 0) return false;
  if (inputs.some((i) => ix.position.get(i)! > first)) return false;
  const inside = new Set(r.nodes.map((n) => n.id));
  for (const o of outputs) for (const u of ix.users.get(o) ?? []) if (!inside.has(u.id) && ix.position.get(u.id)! < last) return false;
  return true;
}

/** The residual add among a region's own leaves. */
export const addLeafOf = (r: Region): Leaf | undefined => [...r.children.values()].find((c): c is Leaf => c.kind === 'leaf' && c.node.op === 'add');

/** A node's id relative to a region (`layer1.0.relu1` in `layer1.0`: `relu1`); null outside it. */
export function local(id: string, r: Region): string | null {
  return r.path && id.startsWith(`${r.path}.`) ? id.slice(r.path.length + 1) : null;
}
