import { describe, expect, it } from 'vitest';
import { compileFile, compileSource } from '../../src/compiler/files.js';
import { arch } from '../helpers/yaml.js';

/** Stochastic depth (timm's drop_path_rate): where the nodes go and their rates (test/targets/tfjs/drop_path.test.ts: what they compute). */
describe('stochastic depth (drop_path)', () => {
  it("timm's linear schedule: block j of n gets drop_path_rate * j / (n - 1), on its main path before the add", () => {
    const g = compileFile('architectures/resnet18.yaml', { sets: ['drop_path_rate=0.2'] }).graph!;
    const drops = g.nodes.filter((n) => n.op === 'drop_path');
    // Block 0 has rate 0, so no node; blocks 1..7 of 8 get 0.2 * j / 7.
    expect(drops.map((n) => n.id)).toEqual(['layer1.1.drop_path', 'layer2.0.drop_path', 'layer2.1.drop_path', 'layer3.0.drop_path', 'layer3.1.drop_path', 'layer4.0.drop_path', 'layer4.1.drop_path']);
    drops.forEach((n, k) => expect((n.attrs as { rate: number }).rate).toBeCloseTo((0.2 * (k + 1)) / 7, 12));
    for (const n of drops) {
      const add = g.nodes.find((m) => m.op === 'add' && m.inputs[0] === n.id)!;
      expect(add.id).toBe(n.id.replace('drop_path', 'add'));
      expect(g.nodes.find((m) => m.id === n.inputs[0])!.op).toBe('bn'); // the branch's last BN
    }
    const plain = compileFile('architectures/resnet18.yaml').graph!;
    expect(g.totals.params).toBe(plain.totals.params);
    expect(g.totals.macs).toBe(plain.totals.macs);
  });

  it("a stage's drop_path overrides the schedule; out-of-range rates are refused at their line", () => {
    const g = compileSource(arch({ stages: '  - { block: basic, channels: 16, blocks: 2, drop_path: 0.1 }\n  - { block: basic, channels: 32, blocks: 1, stride: 2 }' })).graph!;
    expect(g.nodes.filter((n) => n.op === 'drop_path').map((n) => [n.id, (n.attrs as { rate: number }).rate])).toEqual([
      ['layer1.0.drop_path', 0.1],
      ['layer1.1.drop_path', 0.1],
    ]);
    const bad = compileSource(arch({ stages: '  - { block: basic, channels: 16, blocks: 1, drop_path: 1.5 }' }), { file: 'x.yaml' });
    expect(bad.diagnostics[0]).toMatchObject({ code: 'out-of-range', loc: { line: 10 } });
  });

});
