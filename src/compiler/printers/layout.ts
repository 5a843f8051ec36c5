import dagre from '@dagrejs/dagre';
import { formatLoc, syntheticLoc, type Diagnostic } from '../../parser/index.js';
import type { CompiledGraph, GraphNode } from '../types.js';
import { describeOp, formatShape, grouped } from './describe.js';

/** What to fold into one box: nothing, or every stage (layer1...) into one box each. */
export type Collapse = 'none' | 'stages';
export const COLLAPSE_MODES: readonly Collapse[] = ['none', 'stages'];

export interface LayoutOptions {
  /** Absent: every node, unless the graph has more than PICTURE_LIMITS.maxNodes (then stages). */
  collapse?: Collapse;
}

/**
 * Size limits of the drawn pictures (svg, html). dagre's layout is superlinear and recursive: it
 * took 6 s at 1,600 nodes and overflowed the stack at about 1,820. Past `maxNodes` the picture
 * shows one box a stage by default, and an explicit `collapse: 'none'` is refused.
 */
export const PICTURE_LIMITS = { maxNodes: 600 };

/** The collapse a picture of `g` uses: the one asked for, else every node while that fits. */
export function pictureCollapse(g: Pick<CompiledGraph, 'nodes'>, collapse?: Collapse): Collapse {
  return collapse ?? (g.nodes.length > PICTURE_LIMITS.maxNodes ? 'stages' : 'none');
}

/** Boxes a picture of `g` draws with `collapse`: its nodes, or stages plus the nodes outside them. */
export function pictureBoxes(g: Pick<CompiledGraph, 'nodes'>, collapse: Collapse): number {
  if (collapse === 'none') return g.nodes.length;
  const stages = new Set<string>();
  let outside = 0;
  for (const n of g.nodes) {
    if (n.stage === undefined) outside++;
    else stages.add(n.stage);
  }
  return outside + stages.size;
}

/**
 * Why a picture of `g` (svg or html) cannot be drawn with `collapse`, as a diagnostic at the
 * architecture's first stage; undefined when it can. The CLI reports it (exit 1); the printers
 * throw it as a PictureTooLargeError when called anyway.
 */
export function checkPicture(g: Pick<CompiledGraph, 'nodes' | 'stages' | 'name'>, collapse?: Collapse): Diagnostic | undefined {
  const c = pictureCollapse(g, collapse);
  const boxes = pictureBoxes(g, c);
  if (boxes <= PICTURE_LIMITS.maxNodes) return undefined;
  const loc = g.stages[0]?.loc ?? g.nodes[0]?.loc ?? syntheticLoc(g.name);
  const limit = PICTURE_LIMITS.maxNodes.toLocaleString('en-US');
  return c === 'none'
    ? {
        code: 'limit-exceeded',
        severity: 'error',
        message: `The graph has ${boxes.toLocaleString('en-US')} nodes; a picture of every node is drawn up to ${limit} nodes.`,
        loc,
        hint: 'Draw one box a stage with --collapse stages (API: collapse: \'stages\'), or use --format mermaid, dot or json.',
      }
    : {
        code: 'limit-exceeded',
        severity: 'error',
        message: `Even with stages collapsed the picture has ${boxes.toLocaleString('en-US')} boxes; pictures are drawn up to ${limit}.`,
        loc,
        hint: 'Use --format mermaid, dot or json, or move layers of the stem and head into stages.',
      };
}

/** Thrown by layoutGraph (svg, html) for a picture over PICTURE_LIMITS; check with checkPicture first. */
export class PictureTooLargeError extends RangeError {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
    this.name = 'PictureTooLargeError';
  }
}

/**
 * One drawn box: a graph node, or a whole stage when stages are collapsed. Text is plain (not
 * escaped); the printers escape it for their target.
 */
export interface Box {
  /** The graph node id, or the stage name for a collapsed stage. */
  id: string;
  kind: 'node' | 'stage';
  /** The node's op; `stage` for a collapsed stage. */
  op: string;
  /** Centre, size (px). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The lines drawn in the box: name, op, output shape (stages: name, blocks, shapes, params). */
  lines: string[];
  /** The hover details (several lines). */
  details: string;
  /** Inserted by a shortcut rule (a node), or holding inserted nodes (a stage). */
  inserted: boolean;
  /** Number of inserted nodes the box stands for (0 or 1 for a node). */
  insertedCount: number;
  path?: 'main' | 'shortcut';
  stage?: string;
}

export interface Wire {
  from: string;
  to: string;
  /** The route, first point on `from`'s border, last on `to`'s. */
  points: { x: number; y: number }[];
  /** The tensor shape that flows along the edge, as text. */
  label: string;
  labelX: number;
  labelY: number;
  /** The skip path of a residual block. */
  skip: boolean;
}

/** The frame of one stage when stages are not collapsed. */
export interface Cluster {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  boxes: Box[];
  wires: Wire[];
  clusters: Cluster[];
}

/**
 * Text metrics. Every label is drawn in a monospace font, so a character's advance is a fixed
 * fraction of the font size and box sizes can be computed without a browser.
 */
export const FONT = {
  family: "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace",
  size: 12,
  lineHeight: 16,
  edgeSize: 10,
  /** Advance of one character as a fraction of the font size (DejaVu Sans Mono: 0.602). */
  advance: 0.61,
};
const PAD_X = 10;
const PAD_Y = 6;

export const textWidth = (s: string, size = FONT.size) => Math.ceil(s.length * size * FONT.advance);

function nodeDetails(g: CompiledGraph, n: GraphNode, byId: Map<string, GraphNode>): string {
  const out = [n.id, `op: ${describeOp(n)}`, `output: ${formatShape(n.shape)}`];
  if (n.inputs.length) out.push(`inputs: ${n.inputs.map((i) => `${i} (${formatShape(byId.get(i)?.shape ?? [])})`).join(', ')}`);
  if (n.params.trainable || n.params.nonTrainable) out.push(`params: ${grouped(n.params.trainable)} trainable${n.params.nonTrainable ? `, ${grouped(n.params.nonTrainable)} non-trainable` : ''}`);
  if (n.macs) out.push(`MACs: ${grouped(n.macs)}`);
  if (n.stage !== undefined) out.push(`stage ${n.stage}, block ${n.block}, ${n.path ?? 'main'} path`);
  if (n.inserted) out.push(`inserted by the ${n.inserted.rule} rule: ${n.inserted.reason}`);
  if (g.kind === 'classifier' && n.id === g.output) out.push('model output');
  for (const f of g.kind === 'backbone' ? g.features : []) if (f.node === n.id) out.push(`model output: feature ${f.name}`);
  out.push(`from ${formatLoc(n.loc)}`);
  return out.join('\n');
}

/**
 * Whether the edge from input `k` of `n` is on a skip path: the compiler's rule (the one its graph
 * labels edges with), read from the node. Asking g.graph would build the graphlib graph, which
 * took 2.6 s at 70,000 nodes, for an answer the node already holds.
 */
export function isSkip(_g: CompiledGraph, _src: string, n: GraphNode, k: number): boolean {
  return (n.op === 'add' && k === 1) || n.path === 'shortcut';
}

/** The nodes of each stage, in graph order (one pass; a list copied per node was quadratic). */
export function stageMembers(nodes: readonly GraphNode[]): Map<string, GraphNode[]> {
  const members = new Map<string, GraphNode[]>();
  for (const n of nodes) {
    if (n.stage === undefined) continue;
    const list = members.get(n.stage);
    if (list) list.push(n);
    else members.set(n.stage, [n]);
  }
  return members;
}

interface Proto {
  box: Omit<Box, 'x' | 'y' | 'width' | 'height'>;
}

function sizeOf(lines: string[]) {
  let width = 0;
  for (const l of lines) width = Math.max(width, textWidth(l));
  return { width: width + 2 * PAD_X, height: lines.length * FONT.lineHeight + 2 * PAD_Y };
}

/**
 * Lays the compiled graph out top to bottom with dagre (the layout sibling of graphlib): one box a
 * node (or a stage), edges routed around boxes and labelled with the tensor shape.
 */
export function layoutGraph(g: CompiledGraph, opts: LayoutOptions = {}): GraphLayout {
  const refusal = checkPicture(g, opts.collapse);
  if (refusal) throw new PictureTooLargeError(refusal);
  const collapse = pictureCollapse(g, opts.collapse);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const stageKey = (name: string) => `stage:${name}`;
  const rep = (n: GraphNode) => (collapse === 'stages' && n.stage !== undefined ? stageKey(n.stage) : n.id);

  const protos = new Map<string, Proto['box']>();
  if (collapse === 'stages') {
    const members = stageMembers(g.nodes);
    const stageByName = new Map(g.stages.map((s) => [s.name, s]));
    for (const n of g.nodes) {
      if (n.stage === undefined) protos.set(n.id, nodeProto(g, n, byId));
      else if (!protos.has(stageKey(n.stage))) {
        protos.set(stageKey(n.stage), stageProto(n.stage, members.get(n.stage)!, stageByName.get(n.stage)?.blocks, byId));
      }
    }
  } else {
    for (const n of g.nodes) protos.set(n.id, nodeProto(g, n, byId));
  }

  const dg = new dagre.graphlib.Graph({ multigraph: false, compound: collapse === 'none' });
  dg.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 22, edgesep: 14, marginx: 12, marginy: 12 });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const [key, p] of protos) dg.setNode(key, { ...sizeOf(p.lines) });
  const clusterIds: string[] = [];
  if (collapse === 'none') {
    for (const n of g.nodes) {
      if (n.stage === undefined) continue;
      const c = `cluster:${n.stage}`;
      if (!dg.hasNode(c)) {
        dg.setNode(c, { label: n.stage, paddingTop: 18 });
        clusterIds.push(c);
      }
      dg.setParent(n.id, c);
    }
  }

  // Edges: one a pair of boxes (collapsed stages merge several); skip only if every merged edge is.
  const edges = new Map<string, { from: string; to: string; shape: number[]; skip: boolean }>();
  for (const n of g.nodes) {
    n.inputs.forEach((src, k) => {
      const from = rep(byId.get(src)!);
      const to = rep(n);
      if (from === to) return;
      const skip = isSkip(g, src, n, k);
      const key = `${from}\u0000${to}`;
      const prev = edges.get(key);
      if (prev) prev.skip &&= skip;
      else edges.set(key, { from, to, shape: byId.get(src)!.shape, skip });
    });
  }
  for (const e of edges.values()) {
    const text = formatShape(e.shape);
    dg.setEdge(e.from, e.to, { width: textWidth(text, FONT.edgeSize) + 4, height: FONT.edgeSize + 2, labelpos: 'r', labeloffset: 4, minlen: 1, weight: e.skip ? 1 : 4 });
  }

  dagre.layout(dg);

  const boxes: Box[] = [];
  for (const [key, p] of protos) {
    const l = dg.node(key);
    boxes.push({ ...p, x: l.x, y: l.y, width: l.width, height: l.height });
  }
  const wires: Wire[] = [];
  for (const e of edges.values()) {
    const l = dg.edge(e.from, e.to) as { points: { x: number; y: number }[]; x: number; y: number; width: number };
    wires.push({
      from: protos.get(e.from)!.id,
      to: protos.get(e.to)!.id,
      points: l.points.map((q) => ({ x: q.x, y: q.y })),
      label: formatShape(e.shape),
      // dagre centres the label box at (x, y); text starts at its left edge.
      labelX: l.x - l.width / 2 + 2,
      labelY: l.y,
      skip: e.skip,
    });
  }
  const clusters = clusterIds.map((c) => {
    const l = dg.node(c);
    return { id: c.slice('cluster:'.length), label: c.slice('cluster:'.length), x: l.x - l.width / 2, y: l.y - l.height / 2, width: l.width, height: l.height };
  });
  const gl = dg.graph() as { width?: number; height?: number };
  return { width: Math.ceil(gl.width ?? 0), height: Math.ceil(gl.height ?? 0), boxes, wires, clusters };
}

function nodeProto(g: CompiledGraph, n: GraphNode, byId: Map<string, GraphNode>): Proto['box'] {
  return {
    id: n.id,
    kind: 'node',
    op: n.op,
    lines: [(n.inserted ? '+ ' : '') + n.id, describeOp(n), formatShape(n.shape)],
    details: nodeDetails(g, n, byId),
    inserted: Boolean(n.inserted),
    insertedCount: n.inserted ? 1 : 0,
    path: n.path,
    stage: n.stage,
  };
}

function stageProto(name: string, nodes: GraphNode[], blocks: number | undefined, byId: Map<string, GraphNode>): Proto['box'] {
  const inside = new Set(nodes.map((n) => n.id));
  const entry = nodes.flatMap((n) => n.inputs).find((i) => !inside.has(i));
  const inShape = entry ? formatShape(byId.get(entry)!.shape) : '?';
  const last = nodes[nodes.length - 1];
  const params = nodes.reduce((s, n) => s + n.params.trainable, 0);
  const macs = nodes.reduce((s, n) => s + n.macs, 0);
  const inserted = nodes.filter((n) => n.inserted);
  const count = blocks ?? new Set(nodes.map((n) => n.block)).size;
  const lines = [name, `${count} block${count === 1 ? '' : 's'}, ${nodes.length} nodes`, `${inShape} -> ${formatShape(last.shape)}`, `${grouped(params)} params`];
  const reasons = [...new Set(inserted.map((n) => `${n.inserted!.rule}: ${n.inserted!.reason}`))];
  for (const r of reasons) lines.push(`+ ${r}`);
  const details = [
    `stage ${name}: ${count} block(s), ${nodes.length} nodes`,
    `input: ${inShape}`,
    `output: ${formatShape(last.shape)}`,
    `params: ${grouped(params)} trainable`,
    `MACs: ${grouped(macs)}`,
    ...(inserted.length ? [`${inserted.length} node(s) inserted by shortcut rules:`, ...inserted.map((n) => `  + ${n.id}  ${describeOp(n)}  (${n.inserted!.reason})`)] : ['no inserted shortcut nodes']),
  ].join('\n');
  return { id: name, kind: 'stage', op: 'stage', lines, details, inserted: inserted.length > 0, insertedCount: inserted.length, stage: name };
}
