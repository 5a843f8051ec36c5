import { describe, expect, it } from 'vitest';
import { compileFile, formatTable, toJson, trainingMemory } from '../../../src/compiler/files.js';
import { runCli } from '../../helpers/cli.js';

/** The summary figures users compare with other tools: FLOPs, pycls's activations, training memory, depth rows. */
describe('summary figures', () => {
  const g = compileFile('architectures/resnet50.yaml').graph!;

  it('FLOPs are 2 x MACs, and activations are conv and dense output elements (pycls), per node in JSON and in total', () => {
    expect(g.totals.flops).toBe(2 * g.totals.macs);
    const json = toJson(g);
    const perNode = json.nodes.reduce((s, n) => s + n.activations, 0);
    expect(perNode).toBe(g.totals.activations);
    const conv1 = json.nodes.find((n) => n.id === 'conv1')!;
    expect(conv1.activations).toBe(112 * 112 * 64);
    expect(json.nodes.find((n) => n.id === 'bn1')!.activations).toBe(0);
    expect(json.totals).toMatchObject({ flops: 8_178_368_512, activations: g.totals.activations });
  });

  it('the training-memory estimate adds weights, gradients, the optimizer state and a batch of activations', () => {
    const m = trainingMemory(g.totals, 32, 'sgd');
    expect(m.weights).toBe(4 * g.totals.params);
    expect(m.gradients).toBe(4 * g.totals.trainableParams);
    expect(m.optimizerState).toBe(4 * g.totals.trainableParams);
    expect(m.activations).toBe(32 * g.totals.activationBytes);
    expect(m.total).toBe(m.weights + m.gradients + m.optimizerState + m.activations);
    expect(trainingMemory(g.totals, 32, 'adam').optimizerState).toBe(8 * g.totals.trainableParams);
    expect(formatTable(g)).toMatch(/^Training memory: +~[\d.]+ GiB for a batch of 32 \(estimate, SGD with momentum: weights 97\.69 MiB, gradients 97\.49 MiB, momentum 97\.49 MiB, activations /m);
    expect(formatTable(g)).toMatch(/^FLOPs: +8,178,368,512 \(8\.18 G: 2 x MACs; what fvcore and pycls call "flops" are MACs\)$/m);
  });

  it('depth 1: one row a stage (plus stem and head) whose subtotals add up to the totals; depth 2: one row a block', () => {
    const rows = (text: string) => text.split('\n').filter((l) => /^ {2}(\(stem\)|\(head\)|layer)/.test(l));
    const one = rows(formatTable(g, { depth: 1 }));
    expect(one.map((l) => l.trim().split(/\s+/)[0])).toEqual(['(stem)', 'layer1', 'layer2', 'layer3', 'layer4', '(head)']);
    const num = (s: string) => (s === '-' ? 0 : Number(s.replace(/,/g, '')));
    const sum = (col: number) => one.reduce((s, l) => s + num(l.trim().split(/\s+/)[col]), 0);
    expect(sum(3)).toBe(g.totals.trainableParams);
    expect(sum(4)).toBe(g.totals.macs);
    expect(sum(5)).toBe(g.totals.activations);
    expect(one[1]).toMatch(/^ {2}layer1 +56x56x256 /);
    const two = rows(formatTable(g, { depth: 2 }));
    expect(two.length).toBe(2 + 3 + 4 + 6 + 3);
    expect(two[1].trim().split(/\s+/)[0]).toBe('layer1.0');
  });

  it('skipgraph compile --depth 1 prints the stage rows; --depth 3 or with json is a usage error', async () => {
    const ok = await runCli('compile', 'architectures/resnet18.yaml', '--depth', '1');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ {2}layer4 +7x7x512 +\d+ +8,393,728 /m);
    expect((await runCli('compile', 'architectures/resnet18.yaml', '--depth', '3')).err).toMatch(/--depth takes 1 \(stages\) or 2 \(blocks\)/);
    expect((await runCli('compile', 'architectures/resnet18.yaml', '--depth', '1', '-f', 'json')).code).toBe(2);
  });
});
