import pc from 'picocolors';
import { formatBytes } from '../limits.js';
import type { CompiledGraph } from '../types.js';
import { describeOp, formatShape, grouped } from './describe.js';

export interface TableOptions {
  color?: boolean;
}

/**
 * The summary table, like Keras' model.summary() or torchinfo: one row a node (inserted shortcut
 * nodes marked with `+` and their reason), then totals. Built from the compiled graph only.
 */
export function formatTable(g: CompiledGraph, opts: TableOptions = {}): string {
  const c = pc.createColors(opts.color ?? false);
  const rows = g.nodes.map((n) => [
    (n.inserted ? '+ ' : '  ') + n.id,
    describeOp(n),
    formatShape(n.shape),
    // Trainable parameters per node, as torchvision/torchinfo count them; BN buffers are in the totals.
    n.params.trainable ? grouped(n.params.trainable) : '-',
    n.macs ? grouped(n.macs) : '-',
    n.inserted ? `${n.inserted.rule}: ${n.inserted.reason}` : '',
  ]);
  // "trainable": the per-node figure torchinfo's "Param #" shows (BN statistics are in the totals).
  const head = ['  node', 'op', 'output', 'trainable', 'MACs', ''];
  // A loop, not Math.max(...rows): spreading 126,000 rows into one call overflowed the stack.
  const widths = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) if (r[i].length > widths[i]) widths[i] = r[i].length;
  const right = [false, false, false, true, true, false];
  const line = (r: string[]) => r.map((v, i) => (right[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.slice(0, 5).reduce((a, b) => a + b + 2, 0));
  const out = [`${c.bold(g.name)}: input ${g.input.height}x${g.input.width}x${g.input.channels}, ${g.classes} classes`, rule, c.bold(line(head)), rule];
  for (let i = 0; i < rows.length; i++) {
    const text = line(rows[i]);
    out.push(g.nodes[i].inserted ? c.yellow(text) : text);
  }
  const t = g.totals;
  const inserted = g.nodes.filter((n) => n.inserted).length;
  out.push(
    rule,
    `Total params:         ${grouped(t.params)} (trainable + non-trainable)`,
    `Trainable params:     ${grouped(t.trainableParams)} (torchvision's and torchinfo's count)`,
    `Non-trainable params: ${grouped(t.nonTrainableParams)} (batch-norm running means and variances)`,
    `MACs:                 ${grouped(t.macs)} (${(t.macs / 1e9).toFixed(2)} G)`,
    `Params size:          ${(t.params * 4 / 2 ** 20).toFixed(2)} MiB (float32)`,
    `Activations:          ${formatBytes(t.activationBytes)} per sample, ${formatBytes(t.activationBytesAtBatch)} for a batch of ${t.batch} (forward, float32, input included)`,
    `Nodes:                ${g.nodes.length} (${inserted} inserted by shortcut rules, marked +)`,
  );
  return out.join('\n');
}
