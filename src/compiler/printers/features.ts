import type { BackboneGraph, CompiledGraph } from '../types.js';
import { formatShape } from './describe.js';

/** What the model returns, for a header line: "1000 classes", or "backbone, 4 feature maps". */
export function outputLabel(g: CompiledGraph): string {
  return g.kind === 'classifier' ? `${g.classes} classes` : `backbone, ${g.features.length} feature map${g.features.length === 1 ? '' : 's'}`;
}

/** A reduction as timm prints it (4, 8, ...); a size that does not divide evenly keeps two decimals. */
export function formatReduction(r: number): string {
  return Number.isInteger(r) ? String(r) : r.toFixed(2);
}

/**
 * The backbone's outputs, one row each in the order returned (timm's feature_info: channels and
 * reduction), after the node table:
 *   feature  node           channels  reduction  shape
 *   layer1   layer1.2.relu       256          4  56x56x256
 */
export function featureTable(g: BackboneGraph): string[] {
  const head = ['feature', 'node', 'channels', 'reduction', 'shape'];
  const rows = g.features.map((f) => [f.name, f.node, String(f.channels), formatReduction(f.reduction), formatShape(f.shape)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = [false, false, true, true, false];
  const line = (r: string[]) => '  ' + r.map((v, i) => (right[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [`Returns ${g.features.length} feature map${g.features.length === 1 ? '' : 's'}, in this order:`, line(head), ...rows.map(line)];
}
