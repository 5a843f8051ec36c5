/**
 * Wide ResNet (Zagoruyko & Komodakis 2016) with dropout between the convs, written as a user block:
 * `pre:` gives the block its pre-activation (BN, ReLU), the projection reads the pre-activated input
 * and has no BN, and dropout's rate is a block parameter. The counts must be the paper's: checked
 * against the closed form of the paper's network, and against PyTorch (the reference
 * implementation's module, built here with /usr/bin/python3) when torch is installed.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileSource, type CompiledGraph } from '../../src/compiler/files.js';
import { skipWithout } from '../helpers/require.js';

const PYTHON = process.env.SKIPGRAPH_TORCH_PYTHON ?? '/usr/bin/python3';

/** WRN-depth-k for CIFAR: 3 groups of (depth - 4) / 6 blocks, widths 16k, 32k, 64k. */
function wrn(depth: number, k: number, drop = 0.3): string {
  const n = (depth - 4) / 6;
  return `name: wrn_${depth}_${k}
input: { height: 32, width: 32, channels: 3 }
classes: 10
stem:
  - { op: conv, filters: 16, kernel: 3 }
stages:
  - { block: wide, channels: ${16 * k}, blocks: ${n}, stride: 1 }
  - { block: wide, channels: ${32 * k}, blocks: ${n}, stride: 2 }
  - { block: wide, channels: ${64 * k}, blocks: ${n}, stride: 2, params: { drop: 0.1 } }
head:
  - { op: bn }
  - { op: relu }
  - { op: global_avg_pool }
  - { op: dense, units: $classes }
blocks:
  wide:
    params: { drop: ${drop} }
    pre:
      - { op: bn }
      - { op: relu }
    layers:
      - { op: conv, filters: $channels, kernel: 3, stride: $stride }
      - { op: bn }
      - { op: relu }
      - { op: dropout, rate: $drop }
      - { op: conv, filters: $channels, kernel: 3 }
    post: none
`;
}

/** The paper's network, counted by hand: trainable params and BN statistics. */
function paperCount(depth: number, k: number, classes = 10): { trainable: number; buffers: number } {
  const n = (depth - 4) / 6;
  let trainable = 3 * 16 * 9;
  let buffers = 0;
  const bn = (c: number) => {
    trainable += 2 * c;
    buffers += 2 * c;
  };
  let cin = 16;
  for (const w of [16 * k, 32 * k, 64 * k]) {
    for (let i = 0; i < n; i++) {
      bn(cin);
      trainable += cin * w * 9;
      bn(w);
      trainable += w * w * 9;
      if (cin !== w) trainable += cin * w; // 1x1 projection, no BN
      cin = w;
    }
  }
  bn(cin);
  trainable += cin * classes + classes;
  return { trainable, buffers };
}

function compile(text: string): CompiledGraph {
  const r = compileSource(text, { file: 'wrn.yaml' });
  expect(r.diagnostics).toEqual([]);
  return r.graph!;
}

/** The reference implementation's WideResNet (xternalz/WideResNet-pytorch, as in the paper). */
const TORCH_WRN = `
import sys, torch.nn as nn
class Block(nn.Module):
    def __init__(s, i, o, stride, drop):
        super().__init__()
        s.bn1 = nn.BatchNorm2d(i); s.relu1 = nn.ReLU(inplace=True)
        s.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
        s.bn2 = nn.BatchNorm2d(o); s.relu2 = nn.ReLU(inplace=True)
        s.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
        s.drop = nn.Dropout(drop)
        s.equal = i == o
        s.short = None if s.equal else nn.Conv2d(i, o, 1, stride, 0, bias=False)
def wrn(depth, k, classes=10):
    n = (depth - 4) // 6
    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False)], 16
    for w, st in [(16 * k, 1), (32 * k, 2), (64 * k, 2)]:
        for j in range(n):
            layers.append(Block(cin, w, st if j == 0 else 1, 0.3)); cin = w
    layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)
m = wrn(int(sys.argv[1]), int(sys.argv[2]))
print(sum(p.numel() for p in m.parameters()), sum(b.numel() for nm, b in m.named_buffers() if not nm.endswith('num_batches_tracked')))
`;

function torchCount(depth: number, k: number): { trainable: number; buffers: number } | undefined {
  const r = spawnSync(PYTHON, ['-c', TORCH_WRN, String(depth), String(k)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return undefined;
  const [trainable, buffers] = r.stdout.trim().split(/\s+/).map(Number);
  return { trainable, buffers };
}

describe('Wide ResNet as a user block with pre-activation', () => {
  it('the projection reads the pre-activated input and has no BN; the identity adds the raw input', () => {
    const g = compile(wrn(16, 2));
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    expect(byId.get('layer2.0.downsample.0')).toMatchObject({ op: 'conv', inputs: ['layer2.0.relu'], attrs: { kernel: [1, 1], stride: [2, 2] } });
    expect(byId.has('layer2.0.downsample.1')).toBe(false);
    expect(byId.get('layer2.0.relu')!.inputs).toEqual(['layer2.0.bn1']);
    expect(byId.get('layer2.0.bn1')!.inputs).toEqual(['layer1.1.add']);
    // Block 1: shapes match, so the shortcut is the block's input itself (not its pre-activation).
    expect(byId.get('layer2.1.add')!.inputs).toEqual(['layer2.1.conv2', 'layer2.0.add']);
    // The rate is a block parameter: the block's default, or the stage's value.
    expect(byId.get('layer1.0.dropout')).toMatchObject({ op: 'dropout', attrs: { rate: 0.3 } });
    expect(byId.get('layer3.0.dropout')).toMatchObject({ op: 'dropout', attrs: { rate: 0.1 } });
  });

  it.each([
    [16, 2],
    [28, 10],
  ])("WRN-%i-%i: the paper's parameter count exactly", (depth, k) => {
    const g = compile(wrn(depth, k));
    const want = paperCount(depth, k);
    expect(g.totals.trainableParams).toBe(want.trainable);
    expect(g.totals.nonTrainableParams).toBe(want.buffers);
    if (depth === 28) expect((g.totals.trainableParams / 1e6).toFixed(1)).toBe('36.5'); // the paper's table: 36.5M
  });

  const torch = torchCount(16, 2);
  it.skipIf(skipWithout('wide_resnet.test.ts: PyTorch reference', torch ? undefined : `${PYTHON} cannot import torch`))('WRN-16-2 equals the reference PyTorch module (parameters and BN buffers)', () => {
    const g = compile(wrn(16, 2));
    expect(g.totals.trainableParams).toBe(torch!.trainable);
    expect(g.totals.nonTrainableParams).toBe(torch!.buffers);
  });

  it('dropout rate and BN epsilon accept expressions; a rate out of [0, 1) is refused at its place', () => {
    const text = wrn(16, 1).replace('- { op: dropout, rate: $drop }', '- { op: dropout, rate: $drop / 2 }').replace('      - { op: bn }\n      - { op: relu }\n      - { op: dropout', '      - { op: bn, epsilon: $drop / 1000 }\n      - { op: relu }\n      - { op: dropout');
    const g = compile(text);
    expect(g.nodes.find((n) => n.id === 'layer1.0.dropout')!.attrs).toEqual({ rate: 0.15 });
    expect(g.nodes.find((n) => n.id === 'layer1.0.bn2')!.attrs).toMatchObject({ epsilon: 0.0003 });
    const bad = compileSource(wrn(16, 1).replace('rate: $drop', 'rate: $drop * 4'), { file: 'bad.yaml' });
    expect(bad.diagnostics.map((d) => [d.code, d.message])).toEqual([['out-of-range', '"rate" = "$drop * 4" evaluates to 1.2; it must be at least 0 and below 1.']]);
  });
});
