/**
 * The state_dict layout (src/compiler/analyses/state_dict.ts), built from the registry's per-op
 * entries: its keys, shapes and order are torchvision's own for the same network, counters
 * included, and its parameters and buffers add up to the graph's counts.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { counterKeys, stateDictLayout, weightTensors } from '../../../src/compiler/analyses/state_dict.js';
import { compileFile, compileSource } from '../../../src/compiler/files.js';
import { skipWithout, torchMissing, torchPythonPath } from '../../helpers/require.js';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('the state_dict layout', () => {
  it('adds up to the graph: parameters are the trainable count, buffers the rest, counters nothing', () => {
    const g = compileFile('architectures/resnet50.yaml').graph!;
    const layout = stateDictLayout(g);
    const sum = (kind: string) => layout.filter((t) => t.kind === kind).reduce((a, t) => a + size(t.shape), 0);
    expect(sum('param')).toBe(g.totals.trainableParams);
    expect(sum('buffer')).toBe(g.totals.params - g.totals.trainableParams);
    const bns = g.nodes.filter((n) => n.op === 'bn');
    expect([...counterKeys(g)]).toEqual(bns.map((n) => `${n.id}.num_batches_tracked`));
    expect(weightTensors(g).some((t) => t.kind === 'counter')).toBe(false);
  });

  it('follows each node in graph order, its tensors in the order its PyTorch module registers them', () => {
    const g = compileSource(
      `
name: t
input: { height: 8, width: 8, channels: 3 }
classes: 5
stem:
  - { op: conv, filters: 4, kernel: 3, bias: true }
  - { op: bn }
  - { op: relu }
stages: [{ block: basic, channels: 4, blocks: 1 }]
head:
  - { op: flatten }
  - { op: dense, units: $classes, bias: false }
`,
      { file: 't.yaml' },
    ).graph!;
    expect(stateDictLayout(g).slice(0, 7).map((t) => [t.key, t.shape])).toEqual([
      ['conv1.weight', [4, 3, 3, 3]],
      ['conv1.bias', [4]],
      ['bn1.weight', [4]],
      ['bn1.bias', [4]],
      ['bn1.running_mean', [4]],
      ['bn1.running_var', [4]],
      ['bn1.num_batches_tracked', []],
    ]);
    expect(stateDictLayout(g).at(-1)).toMatchObject({ key: 'fc.weight', shape: [5, 8 * 8 * 4], kind: 'param' });
  });

  describe.skipIf(skipWithout('torchvision', torchMissing()))('against torchvision', () => {
    it('resnet18, resnext50_32x4d, regnet_y_400mf: the keys and shapes of their state_dicts (and their order, but for RegNet blocks, whose projection torchvision registers first)', () => {
      const names = ['resnet18', 'resnext50_32x4d', 'regnet_y_400mf'];
      const script = `import json, torchvision\nprint(json.dumps({n: [[k, list(v.shape)] for k, v in getattr(torchvision.models, n)().state_dict().items()] for n in ${JSON.stringify(names)}}))`;
      const r = spawnSync(torchPythonPath()!, ['-c', script], { encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      const torch = JSON.parse(r.stdout) as Record<string, [string, number[]][]>;
      for (const name of names) {
        const ours = stateDictLayout(compileFile(`architectures/${name}.yaml`).graph!).map((t) => [t.key, t.shape]);
        if (name.startsWith('regnet')) expect(new Map(ours as [string, number[]][]), name).toEqual(new Map(torch[name]));
        else expect(ours, name).toEqual(torch[name]);
      }
    }, 300_000);
  });
});
