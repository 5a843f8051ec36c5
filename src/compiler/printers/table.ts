import pc from 'picocolors';
import { nodeActivations, trainingMemory } from '../count.js';
import { formatBytes } from '../limits.js';
import type { CompiledGraph } from '../types.js';
import { describeOp, formatShape, grouped } from './describe.js';
import { featureTable, outputLabel } from './features.js';

export interface TableOptions {
  color?: boolean;
  /**
   * Rows per group instead of per node, as torchinfo's depth: 1 = one row a stage (and the stem
   * and head), 2 = one row a block; each with its output shape and subtotals.
   */
  depth?: 1 | 2;
}

/** The row a node is summed into at `depth`: the stem, a stage, a block, or the head. */
function groupOf(n: CompiledGraph['nodes'][number], depth: 1 | 2, seenStage: boolean): string {
  if (n.stage === undefined) return seenStage ? '(head)' : '(stem)';
  return depth === 1 ? n.stage : `${n.stage}.${n.block}`;
}

/**
 * The summary table, like Keras' model.summary() or torchinfo: one row a node (inserted shortcut
 * nodes marked with `+` and their reason), then totals. Built from the compiled graph only.
 */
export function formatTable(g: CompiledGraph, opts: TableOptions = {}): string {
  const c = pc.createColors(opts.color ?? false);
  if (opts.depth) return groupedTable(g, opts.depth, c);
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
  const out = [`${c.bold(g.name)}: input ${g.input.height}x${g.input.width}x${g.input.channels}, ${outputLabel(g)}`, rule, c.bold(line(head)), rule];
  for (let i = 0; i < rows.length; i++) {
    const text = line(rows[i]);
    out.push(g.nodes[i].inserted ? c.yellow(text) : text);
  }
  if (g.kind === 'backbone') out.push(rule, ...featureTable(g));
  const t = g.totals;
  const inserted = g.nodes.filter((n) => n.inserted).length;
  out.push(
    rule,
    `Total params:         ${grouped(t.params)} (trainable + non-trainable)`,
    `Trainable params:     ${grouped(t.trainableParams)} (torchvision's and torchinfo's count)`,
    `Non-trainable params: ${grouped(t.nonTrainableParams)} (batch-norm running means and variances)`,
    `MACs:                 ${grouped(t.macs)} (${(t.macs / 1e9).toFixed(2)} G)`,
    `FLOPs:                ${grouped(t.flops)} (${(t.flops / 1e9).toFixed(2)} G: 2 x MACs; what fvcore and pycls call "flops" are MACs)`,
    `Params size:          ${(t.params * 4 / 2 ** 20).toFixed(2)} MiB (float32)`,
    `Activations:          ${formatBytes(t.activationBytes)} per sample, ${formatBytes(t.activationBytesAtBatch)} for a batch of ${t.batch} (forward, float32, input included)`,
    `Activation count:     ${grouped(t.activations)} (pycls's: conv and dense output elements, per sample)`,
    trainingLine(t),
    `Nodes:                ${g.nodes.length} (${inserted} inserted by shortcut rules, marked +)`,
  );
  return out.join('\n');
}

/** "Training memory:      ~3.30 GiB for a batch of 32 (estimate: ...)". */
function trainingLine(t: CompiledGraph['totals']): string {
  const m = trainingMemory(t, t.batch, 'sgd');
  return `Training memory:      ~${formatBytes(m.total)} for a batch of ${t.batch} (estimate, SGD with momentum: weights ${formatBytes(m.weights)}, gradients ${formatBytes(m.gradients)}, momentum ${formatBytes(m.optimizerState)}, activations ${formatBytes(m.activations)})`;
}

/** The table at a depth: one row a stage (or block), with its output shape and subtotals. */
function groupedTable(g: CompiledGraph, depth: 1 | 2, c: ReturnType<typeof pc.createColors>): string {
  const groups = new Map<string, { shape: number[]; nodes: number; trainable: number; macs: number; activations: number; inserted: number }>();
  let seenStage = false;
  for (const n of g.nodes) {
    if (n.op === 'input') continue;
    if (n.stage !== undefined) seenStage = true;
    const key = groupOf(n, depth, seenStage);
    const row = groups.get(key) ?? { shape: n.shape, nodes: 0, trainable: 0, macs: 0, activations: 0, inserted: 0 };
    row.shape = n.shape; // the group's last node gives its output
    row.nodes += 1;
    row.trainable += n.params.trainable;
    row.macs += n.macs;
    row.activations += nodeActivations(n);
    if (n.inserted) row.inserted += 1;
    groups.set(key, row);
  }
  const head = [depth === 1 ? '  stage' : '  block', 'output', 'nodes', 'trainable', 'MACs', 'activations'];
  const rows = [...groups].map(([k, r]) => [`  ${k}`, formatShape(r.shape), String(r.nodes), r.trainable ? grouped(r.trainable) : '-', r.macs ? grouped(r.macs) : '-', r.activations ? grouped(r.activations) : '-']);
  const widths = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) if (r[i].length > widths[i]) widths[i] = r[i].length;
  const right = [false, false, true, true, true, true];
  const line = (r: string[]) => r.map((v, i) => (right[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const t = g.totals;
  return [
    `${c.bold(g.name)}: input ${g.input.height}x${g.input.width}x${g.input.channels}, ${outputLabel(g)}`,
    rule,
    c.bold(line(head)),
    rule,
    ...rows.map(line),
    rule,
    line(['  total', totalShape(g), String(g.nodes.length - 1), grouped(t.trainableParams), grouped(t.macs), grouped(t.activations)]),
    ...(g.kind === 'backbone' ? [rule, ...featureTable(g)] : []),
  ].join('\n');
}

/** The model's output in the total line: the logits' shape, or how many maps a backbone returns. */
function totalShape(g: CompiledGraph): string {
  return g.kind === 'classifier' ? formatShape(g.nodes.find((n) => n.id === g.output)!.shape) : `${g.features.length} maps`;
}
