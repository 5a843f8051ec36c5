import type { CompiledGraph } from '../types.js';
import { describeOp, formatShape } from './describe.js';

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * Graphviz DOT: one box a node (id, op, shape), inserted shortcut nodes filled, skip edges
 * dashed, edges labelled with the tensor shape. `dot -Tsvg` renders it.
 */
export function formatDot(g: CompiledGraph): string {
  const lines = [`digraph ${q(g.name)} {`, '  rankdir=TB;', '  node [shape=box, fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=8];'];
  for (const n of g.nodes) {
    const style = n.inserted ? ', style=filled, fillcolor="#ffe08a"' : n.op === 'add' ? ', shape=circle' : '';
    const label = n.op === 'add' ? '+' : `${n.id}\\n${describeOp(n)}\\n${formatShape(n.shape)}`;
    const tip = n.inserted ? `, tooltip=${q(`inserted by ${n.inserted.rule}: ${n.inserted.reason}`)}` : '';
    lines.push(`  ${q(n.id)} [label=${q(label).replace(/\\\\n/g, '\\n')}${style}${tip}];`);
  }
  for (const e of g.graph.edges()) {
    const l = g.graph.edge(e);
    lines.push(`  ${q(e.v)} -> ${q(e.w)} [label=${q(formatShape(l.shape))}${l.skip ? ', style=dashed, color="#c0392b"' : ''}];`);
  }
  lines.push('}');
  return lines.join('\n');
}
