import type { CompiledGraph, GraphNode } from '../types.js';
import { describeOp, formatShape, grouped } from './describe.js';
import { isSkip, pictureCollapse, stageMembers, type LayoutOptions } from './layout.js';

export interface MermaidOptions extends LayoutOptions {}

/**
 * Text for a Mermaid label in double quotes. Mermaid reads `#name;` and `#123;` as entities and
 * may render labels as HTML, so every character that could start markup, end the quoted label or
 * start an entity becomes a numeric entity; line breaks become spaces.
 */
export function escapeMermaid(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[#&<>"'`|\\{}[\]()]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A box's label: the first line (the name) bold, the lines joined with <br/>. */
const label = (lines: string[]) => `"${lines.map(escapeMermaid).map((l, i) => (i === 0 ? `<b>${l}</b>` : l)).join('<br/>')}"`;

/**
 * A Mermaid flowchart (paste it into a ```mermaid block in Markdown): one box a node with name, op
 * and shape; inserted shortcut nodes in the `inserted` class (yellow); skip edges dotted and red;
 * every edge labelled with its tensor shape. Stages are subgraphs, or one box each with
 * `collapse: 'stages'`. Node ids are n0, n1...; every YAML string is escaped.
 */
export function formatMermaid(g: CompiledGraph, opts: MermaidOptions = {}): string {
  // Large graphs default to one box a stage, as svg and html do; an explicit 'none' is written
  // whole (the text is linear in the graph; mermaid's renderer has limits of its own).
  const collapse = pictureCollapse(g, opts.collapse) === 'stages';
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const ids = new Map<string, string>();
  const idOf = (key: string) => {
    if (!ids.has(key)) ids.set(key, `n${ids.size}`);
    return ids.get(key)!;
  };
  const stageIndex = new Map(g.stages.map((s, i) => [s.name, i]));
  const key = (n: GraphNode) => (collapse && n.stage !== undefined ? `stage:${n.stage}` : `node:${n.id}`);

  const out = ['flowchart TB'];
  out.push('  classDef inserted fill:#ffe08a,stroke:#b8860b,stroke-width:2px,stroke-dasharray:5 3');
  out.push('  classDef join fill:#ffffff,stroke:#37474f');
  out.push('  classDef stage fill:#e3f2fd,stroke:#1e88e5');
  const insertedIds: string[] = [];
  const joinIds: string[] = [];
  const stageIds: string[] = [];

  // Nodes, grouped in stage subgraphs when not collapsed.
  let openStage: string | undefined;
  const close = () => {
    if (openStage !== undefined) out.push('  end');
    openStage = undefined;
  };
  const members = stageMembers(g.nodes);
  for (const n of g.nodes) {
    if (collapse && n.stage !== undefined) {
      if (ids.has(key(n))) continue;
      const nodes = members.get(n.stage)!;
      const inside = new Set(nodes.map((m) => m.id));
      const entry = nodes.flatMap((m) => m.inputs).find((i) => !inside.has(i));
      const inserted = nodes.filter((m) => m.inserted);
      const blocks = g.stages[stageIndex.get(n.stage) ?? -1]?.blocks ?? new Set(nodes.map((m) => m.block)).size;
      const lines = [n.stage, `${blocks} block${blocks === 1 ? '' : 's'}, ${nodes.length} nodes`, `${entry ? formatShape(byId.get(entry)!.shape) : '?'} -> ${formatShape(nodes[nodes.length - 1].shape)}`, `${grouped(nodes.reduce((s, m) => s + m.params.trainable, 0))} params`];
      for (const r of new Set(inserted.map((m) => `${m.inserted!.rule}: ${m.inserted!.reason}`))) lines.push(`+ ${r}`);
      const id = idOf(key(n));
      out.push(`  ${id}[${label(lines)}]`);
      (inserted.length ? insertedIds : stageIds).push(id);
      continue;
    }
    if (!collapse && n.stage !== openStage) {
      close();
      if (n.stage !== undefined) {
        out.push(`  subgraph s${stageIndex.get(n.stage) ?? n.stage.replace(/\W/g, '_')}[${label([n.stage])}]`);
        openStage = n.stage;
      }
    }
    const id = idOf(key(n));
    const text = label([(n.inserted ? '+ ' : '') + n.id, describeOp(n), formatShape(n.shape)]);
    out.push(`${openStage !== undefined ? '    ' : '  '}${id}${n.op === 'add' || n.op === 'mul' ? `([${text}])` : `[${text}]`}`);
    if (n.inserted) insertedIds.push(id);
    else if (n.op === 'add' || n.op === 'mul') joinIds.push(id);
  }
  close();

  // Edges, labelled with shapes; skip edges dotted. One edge per pair of boxes.
  const seen = new Map<string, { skip: boolean; index: number; line: number }>();
  const skipLinks: number[] = [];
  let index = 0;
  for (const n of g.nodes) {
    n.inputs.forEach((src, k) => {
      const from = idOf(key(byId.get(src)!));
      const to = idOf(key(n));
      if (from === to) return;
      const skip = isSkip(g, src, n, k);
      const pair = `${from}>${to}`;
      const prev = seen.get(pair);
      if (prev) {
        if (prev.skip && !skip) {
          prev.skip = false;
          out[prev.line] = out[prev.line].replace(' -.->', ' -->');
        }
        return;
      }
      const shape = escapeMermaid(formatShape(byId.get(src)!.shape));
      out.push(`  ${from} ${skip ? '-.->' : '-->'}|"${shape}"| ${to}`);
      seen.set(pair, { skip, index: index++, line: out.length - 1 });
    });
  }
  for (const e of seen.values()) if (e.skip) skipLinks.push(e.index);
  if (insertedIds.length) out.push(`  class ${insertedIds.join(',')} inserted`);
  if (joinIds.length) out.push(`  class ${joinIds.join(',')} join`);
  if (stageIds.length) out.push(`  class ${stageIds.join(',')} stage`);
  if (skipLinks.length) out.push(`  linkStyle ${skipLinks.join(',')} stroke:#c0392b,stroke-width:2px`);
  return out.join('\n');
}
