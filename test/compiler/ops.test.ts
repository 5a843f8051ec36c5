/**
 * compiler/ops.ts is THE registry of ops: the ops a file may write are exactly the schema's layer
 * ops (but `se` and `use`, which the compiler expands), each described as the schema describes it,
 * and one architecture that uses every op compiles to a graph holding them all, which each target
 * then emits (TF.js builds it; the PyTorch file has a module or a forward line for every node).
 * That every target implements every op is tsc's job (typed tables, exhaustive switches).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSource, OP_KINDS, OPS, type OpKind } from '../../src/compiler/index.js';
import { architectureSchema, LAYER_OPS } from '../../src/parser/index.js';
import { buildModel, selectBackend } from '../../src/targets/tfjs/index.js';
import { emitTorch } from '../../src/targets/torch/index.js';

/** Uses every op: extend it when an op is added (the test below names the missing one). */
const EVERY_OP = `
name: every_op
input: { height: 16, width: 16, channels: 3 }
classes: 4
drop_path_rate: 0.1
stem:
  - { op: conv, filters: 8, kernel: 3, padding: 1, bias: true }
  - { op: bn }
  - { op: relu6 }
  - { op: zeropad, padding: 1 }
  - { op: maxpool, kernel: 3, stride: 1, padding: 1 }
  - { op: avgpool, kernel: 3, stride: 1 }
  - { op: tanh }
  - { op: layernorm, epsilon: 1.0e-6 }
  - { op: layer_scale }
  - { op: hardswish }
  - { op: hardsigmoid }
  - { op: gelu }
  - { op: silu }
  - { op: sigmoid }
  - { op: relu }
stages:
  - { block: basic, channels: 8, blocks: 2, stride: 1, se: { reduction: 4 } }
  - { block: basic, channels: 16, blocks: 1, stride: 2, shortcut: zeropad }
head:
  - { op: flatten }
  - { op: dropout, rate: 0.1 }
  - { op: dense, units: $classes }
`;

/** What each op looks like in an emitted PyTorch file. */
const TORCH_FORM: Record<OpKind, string | RegExp> = {
  input: 'def forward(self, x: torch.Tensor)',
  conv: 'nn.Conv2d(',
  bn: 'nn.BatchNorm2d(',
  layernorm: 'nn.LayerNorm(',
  layer_scale: 'nn.Parameter(torch.full((',
  relu: 'nn.ReLU(',
  relu6: 'nn.ReLU6(',
  sigmoid: 'nn.Sigmoid()',
  silu: 'nn.SiLU()',
  tanh: 'nn.Tanh()',
  hardswish: 'nn.Hardswish()',
  hardsigmoid: 'nn.Hardsigmoid()',
  gelu: 'nn.GELU()',
  maxpool: 'nn.MaxPool2d(',
  avgpool: 'nn.AvgPool2d(',
  zeropad: 'nn.ZeroPad2d(',
  subsample: 'Subsample(',
  channel_pad: 'ChannelPad(',
  global_avg_pool: 'nn.AdaptiveAvgPool2d(',
  flatten: 'torch.flatten(',
  dropout: 'nn.Dropout(',
  drop_path: 'DropPath(',
  dense: 'nn.Linear(',
  add: /out (\+=|= out \+) identity/,
  mul: ' * ',
};

describe('the op table', () => {
  beforeAll(async () => {
    await selectBackend({ force: 'cpu' });
  });

  it('the ops a file may write are the schema\'s layer ops, described as the schema describes them', () => {
    const written = OP_KINDS.filter((op) => OPS[op].plan !== null);
    expect(written.sort()).toEqual(LAYER_OPS.filter((op) => op !== 'se' && op !== 'use').sort());
    for (const branch of architectureSchema.$defs.layer.oneOf) {
      const { const: op, description } = branch.properties.op;
      if (op === 'se' || op === 'use') continue;
      expect(OPS[op as OpKind].description, `the registry's description of ${op}`).toBe(description);
    }
  });

  it('one architecture uses every op, and every target emits it', () => {
    const r = compileSource(EVERY_OP, { file: 'every_op.yaml' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const g = r.graph!;
    const used = new Set(g.nodes.map((n) => n.op));
    const missing = OP_KINDS.filter((op) => !used.has(op));
    expect(missing, 'ops the EVERY_OP fixture does not use yet: add a layer for each').toEqual([]);
    const model = buildModel(g, { seed: 1 });
    expect(model.countParams()).toBe(g.totals.params);
    model.dispose();
    const py = emitTorch(g, { version: 'test' });
    for (const op of OP_KINDS) expect(py, `the PyTorch file's form of ${op}`).toMatch(TORCH_FORM[op]);
  });
});
