import { formatLoc } from '../../parser/index.js';
import type { CompiledGraph } from '../types.js';
import { describeOp, formatShape } from './describe.js';

/** Every node a shortcut rule inserted, grouped by the block that caused it, with its YAML place. */
export function formatExplain(g: CompiledGraph): string {
  const inserted = g.nodes.filter((n) => n.inserted);
  if (inserted.length === 0) return `${g.name}: no shortcut nodes were inserted; every residual add joins equal shapes.`;
  const byBlock = new Map<string, typeof inserted>();
  for (const n of inserted) {
    const key = `${n.stage}.${n.block}`;
    const list = byBlock.get(key);
    if (list) list.push(n);
    else byBlock.set(key, [n]);
  }
  const out = [`${g.name}: ${inserted.length} node(s) inserted in ${byBlock.size} block(s)`];
  for (const [block, nodes] of byBlock) {
    const first = nodes[0].inserted!;
    out.push('', `block ${block} (${formatLoc(first.blockLoc)}): rule "${first.rule}" because ${first.reason}`);
    for (const n of nodes) out.push(`  + ${n.id.padEnd(28)} ${describeOp(n).padEnd(14)} -> ${formatShape(n.shape)}`);
  }
  return out.join('\n');
}
