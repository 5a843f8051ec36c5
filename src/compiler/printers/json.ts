import { nodeActivations } from '../count.js';
import type { CompiledGraph } from '../types.js';

/**
 * The stable JSON form of a compiled graph (docs/dsl.md, "JSON output"). Fields are only ever
 * added, never renamed; `version` changes if that promise is ever broken.
 */
export function toJson(g: CompiledGraph) {
  // A classifier has one output and its classes; a backbone (added in version 1, as fields are)
  // has `features` instead, each with its node, channels, reduction and shape, in the order returned.
  const kind =
    g.kind === 'classifier'
      ? { kind: g.kind, output: { node: g.output, shape: g.nodes.find((n) => n.id === g.output)!.shape }, classes: g.classes }
      : { kind: g.kind, features: g.features.map((f) => ({ name: f.name, node: f.node, channels: f.channels, reduction: f.reduction, shape: f.shape, loc: shortLoc(f.loc) })) };
  return {
    version: 1,
    name: g.name,
    input: g.input,
    ...kind,
    totals: { ...g.totals, totalParams: g.totals.params },
    stages: g.stages.map((s) => ({ name: s.name, blocks: s.blocks, shape: s.shape, loc: shortLoc(s.loc) })),
    nodes: g.nodes.map((n) => ({
      id: n.id,
      op: n.op,
      attrs: n.attrs,
      inputs: n.inputs,
      shape: n.shape,
      // `params` (kept for version 1) is trainable + non-trainable; compare `trainableParams` with
      // torchinfo's per-layer "Param #", which leaves out buffers (BN running statistics).
      params: n.params.trainable + n.params.nonTrainable,
      trainableParams: n.params.trainable,
      nonTrainableParams: n.params.nonTrainable,
      totalParams: n.params.trainable + n.params.nonTrainable,
      macs: n.macs,
      // pycls's activations: output elements of conv and dense nodes (0 for the others).
      activations: nodeActivations(n),
      inserted: n.inserted ? { rule: n.inserted.rule, reason: n.inserted.reason, block: shortLoc(n.inserted.blockLoc) } : null,
      ...(n.stage !== undefined ? { stage: n.stage, block: n.block } : {}),
      loc: shortLoc(n.loc),
    })),
  };
}

const shortLoc = (l: { file: string; line: number; col: number }) => ({ file: l.file, line: l.line, col: l.col });

export function formatJson(g: CompiledGraph): string {
  return JSON.stringify(toJson(g), null, 2);
}
