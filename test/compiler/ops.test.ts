/**
 * compiler/ops.ts is THE registry of ops: the ops a file may write are exactly the schema's layer
 * ops (but `se` and `use`, which the compiler expands), each described as the schema describes it,
 * and every op's example (OpDef.example) compiles to a graph holding it, which each target then
 * emits (TF.js builds it, one layer per node; PyTorch writes its module). That every target
 * implements every op is tsc's job (typed tables, exhaustive switches); that they agree is the
 * conformance matrix's (test/conformance).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSource, OP_KINDS, OPS, type OpKind } from '../../src/compiler/index.js';
import { ACTIVATION_KINDS } from '../../src/compiler/ops.js';
import { ACTIVATIONS } from '../../src/parser/generated/validate_architecture.js';
import { arch, exampleArch } from './ops_examples.js';
import { architectureSchema, LAYER_OPS } from '../../src/parser/index.js';
import { buildModel, selectBackend } from '../../src/targets/tfjs/index.js';
import { emitTorch } from '../../src/targets/torch/index.js';

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

  it("every op's example compiles on the smallest input it takes, holds the op, and every target emits it", () => {
    for (const op of OP_KINDS) {
      const ex = OPS[op].example;
      // A layer's example fits any input of its kind: on a 1x1 map with one channel (first in the
      // stem, or in the head when it makes the map flat).
      if ('layer' in ex && ex.takes === 'map') {
        const at = ex.gives === 'map' ? { stem: [ex.layer] } : { stem: [], head: [ex.layer] };
        const tiny = compileSource(arch(op, { input: '{ height: 1, width: 1, channels: 1 }', ...at }), { file: `${op}.yaml` });
        expect(tiny.diagnostics.filter((d) => d.severity === 'error'), `${op}'s example on a 1x1x1 map`).toEqual([]);
      }
      const r = compileSource(exampleArch(op), { file: `${op}.yaml` });
      expect(r.diagnostics.filter((d) => d.severity === 'error'), `${op}'s example`).toEqual([]);
      const g = r.graph!;
      const nodes = g.nodes.filter((n) => n.op === op);
      expect(nodes.length, `nodes of ${op} in its example`).toBeGreaterThan(0);
      const model = buildModel(g, { seed: 1 });
      expect(model.countParams(), `TF.js parameters of ${op}'s example`).toBe(g.totals.params);
      for (const n of nodes.filter((m) => m.op !== 'input')) expect(model.getLayer(n.id).name).toBe(n.id);
      model.dispose();
      const py = emitTorch(g, { version: 'test' });
      expect(py, `the PyTorch file of ${op}'s example`).toContain('def forward(self, x: torch.Tensor)');
    }
  });

  it('activations are elementwise and stateless; the attribute-free ones are the schema\'s activation words', () => {
    for (const op of ACTIVATION_KINDS) {
      const r = compileSource(exampleArch(op), { file: `${op}.yaml` });
      for (const n of r.graph!.nodes.filter((m) => m.op === op)) {
        const input = r.graph!.nodes.find((m) => m.id === n.inputs[0])!;
        expect(n.shape, `${op} keeps its input's shape`).toEqual(input.shape);
        expect(n.params, `${op} has no parameters`).toEqual({ trainable: 0, nonTrainable: 0 });
      }
    }
    const words = ACTIVATION_KINDS.filter((op) => Object.keys(compileSource(exampleArch(op), { file: `${op}.yaml` }).graph!.nodes.find((n) => n.op === op)!.attrs).length === 0);
    expect([...words].sort()).toEqual([...ACTIVATIONS].sort());
  });
});
