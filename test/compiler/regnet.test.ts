import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource, type CompiledGraph } from '../../src/compiler/files.js';
import { announceSkip, findPython } from '../parity/fixtures.js';

/**
 * RegNet designs generate their stages (pycls's generate_regnet and adjust_block_compatibility,
 * or torchvision's float32 BlockParams and _make_divisible). Counts must be exact: pycls's from
 * its model_complexity.json, torchvision's computed here by its own code.
 */
const compile = (file: string, sets: string[] = []): CompiledGraph => {
  const r = compileFile(file, { sets });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
};

/** pycls counts a bias add as a multiply-accumulate ("flops"); skipgraph, as torchvision/torchinfo, does not. */
const pyclsFlops = (g: CompiledGraph) =>
  g.totals.macs + g.nodes.filter((n) => (n.op === 'conv' || n.op === 'dense') && (n.attrs as { bias?: boolean }).bias).reduce((s, n) => s + n.shape.reduce((p, q) => p * q, 1), 0);

const design = (d: Record<string, number | string>) => Object.entries(d).map(([k, v]) => `stages.0.regnet.${k}=${v}`);

// pycls configs/dds_baselines (DEPTH, W0, WA, WM, GROUP_W, SE_ON) and model_complexity.json.
const PYCLS: { name: string; d: Record<string, number>; params: number; flops: number }[] = [
  { name: 'RegNetX-200MF', d: { depth: 13, w0: 24, wa: 36.44, wm: 2.49, group_width: 8 }, params: 2_684_792, flops: 199_040_872 },
  { name: 'RegNetX-400MF', d: { depth: 22, w0: 24, wa: 24.48, wm: 2.54, group_width: 16 }, params: 5_157_512, flops: 397_678_568 },
  { name: 'RegNetY-400MF', d: { depth: 16, w0: 48, wa: 27.89, wm: 2.09, group_width: 8, se_ratio: 0.25 }, params: 4_344_144, flops: 401_849_056 },
];

// torchvision.models.regnet: the same designs through BlockParams.from_init_params.
const TORCHVISION = [
  { name: 'regnet_x_400mf', file: 'architectures/regnet_x_400mf.yaml', sets: [] as string[] },
  { name: 'regnet_y_400mf', file: 'architectures/regnet_y_400mf.yaml', sets: [] as string[] },
  { name: 'regnet_y_800mf', file: 'architectures/regnet_y_400mf.yaml', sets: design({ depth: 14, w0: 56, wa: 38.84, wm: 2.4, group_width: 16 }) },
];

const REFERENCE = `
import json, sys, torch, torchvision
from torch import nn
out = {}
for name in sys.argv[1:]:
    m = getattr(torchvision.models, name)().eval()
    macs = [0]
    def hook(mod, inp, y):
        if isinstance(mod, nn.Conv2d):
            macs[0] += y.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            macs[0] += mod.in_features * mod.out_features
    for x in m.modules():
        x.register_forward_hook(hook)
    with torch.no_grad():
        m(torch.zeros(1, 3, 224, 224))
    sd = m.state_dict()
    out[name] = {
        "params": sum(p.numel() for p in m.parameters()),
        "buffers": sum(v.numel() for k, v in sd.items() if k.endswith(("running_mean", "running_var"))),
        "macs": macs[0],
        "keys": sorted(k for k in sd if not k.endswith("num_batches_tracked")),
    }
print(json.dumps(out))
`;

/** The state_dict keys the compiled graph's names give (conv/bn/dense tensors). */
function stateDictKeys(g: CompiledGraph): string[] {
  const keys: string[] = [];
  for (const n of g.nodes) {
    if (n.op === 'conv' || n.op === 'dense') keys.push(`${n.id}.weight`, ...((n.attrs as { bias?: boolean }).bias ? [`${n.id}.bias`] : []));
    if (n.op === 'bn') keys.push(`${n.id}.weight`, `${n.id}.bias`, `${n.id}.running_mean`, `${n.id}.running_var`);
  }
  return keys.sort();
}

describe('RegNet designs', () => {
  for (const ref of PYCLS) {
    it(`pycls ${ref.name}: ${ref.params.toLocaleString('en-US')} params and ${ref.flops.toLocaleString('en-US')} flops (MACs + bias adds)`, () => {
      const g = compile('architectures/regnetx_200mf.yaml', design(ref.d));
      expect(g.totals.trainableParams).toBe(ref.params);
      expect(pyclsFlops(g)).toBe(ref.flops);
    });
  }

  it('pycls names: s1.b1.f.a, the projection s1.b1.proj + s1.b1.bn, the head head.fc', () => {
    const ids = compile('architectures/regnetx_200mf.yaml').nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(['stem.conv', 's1.b1.f.a', 's1.b1.f.b_bn', 's1.b1.proj', 's1.b1.bn', 's1.b1.af', 's4.b7.f.c_bn', 'head.fc']));
  });

  it("torchvision's rounding differs from pycls's for regnet_x_400mf (5,495,976 against 5,157,512 params)", () => {
    const tv = compile('architectures/regnet_x_400mf.yaml');
    const pycls = compile('architectures/regnet_x_400mf.yaml', ['stages.0.regnet.rounding=pycls']);
    expect(tv.totals.trainableParams).toBe(5_495_976);
    expect(pycls.totals.trainableParams).toBe(5_157_512);
    expect(tv.stages.map((s) => s.shape[2])).toEqual([32, 64, 160, 400]);
    expect(pycls.stages.map((s) => s.shape[2])).toEqual([32, 64, 160, 384]);
  });

  const py = findPython();
  if ('skip' in py) {
    announceSkip(`torchvision RegNet counts: ${py.skip}`);
  } else {
    it("torchvision's regnet_x_400mf, regnet_y_400mf and regnet_y_800mf: params, buffers, MACs and state_dict keys, from torchvision itself", () => {
      const r = spawnSync(py.python, ['-c', REFERENCE, ...TORCHVISION.map((t) => t.name)], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const ref = JSON.parse(r.stdout) as Record<string, { params: number; buffers: number; macs: number; keys: string[] }>;
      for (const t of TORCHVISION) {
        const g = compile(t.file, t.sets);
        expect(g.totals.trainableParams, t.name).toBe(ref[t.name].params);
        expect(g.totals.nonTrainableParams, t.name).toBe(ref[t.name].buffers);
        expect(g.totals.macs, t.name).toBe(ref[t.name].macs);
        expect(stateDictKeys(g), t.name).toEqual(ref[t.name].keys);
      }
    });
  }

  it('an SE width taken from the block input (RegNet-Y) is usable by any block: se: { ratio, of: input }', () => {
    const yaml = [
      'name: se_in',
      'input: { height: 16, width: 16, channels: 3 }',
      'classes: 4',
      'stem:',
      '  - { op: conv, filters: 24, kernel: 3 }',
      'stages:',
      '  - { block: bottleneck, channels: 8, blocks: 1, se: { ratio: 0.25, of: input } }',
      'head:',
      '  - { op: global_avg_pool }',
      '  - { op: dense, units: $classes }',
    ].join('\n');
    const r = compileSource(yaml);
    expect(r.diagnostics).toEqual([]);
    // The SE sits on the 32-channel bn3 output, but squeezes to round(0.25 * 24 input channels) = 6.
    expect(r.graph!.nodes.find((n) => n.id === 'layer1.0.se.fc1')!.shape).toEqual([1, 1, 6]);
  });

  it('a design whose widths break the group width is refused at the design, and a hand-written regnet_x stage needs group_width', () => {
    const base = (stage: string) =>
      ['name: r', 'input: { height: 32, width: 32, channels: 3 }', 'classes: 4', 'stem:', '  - { op: conv, filters: 8, kernel: 3 }', 'stages:', stage, 'head:', '  - { op: global_avg_pool }', '  - { op: dense, units: $classes }'].join('\n');
    const noGw = compileSource(base('  - { block: regnet_x, channels: 16, blocks: 1, stride: 2 }'), { file: 'r.yaml' });
    expect(noGw.diagnostics[0]).toMatchObject({ code: 'invalid-value', loc: { line: 7 } });
    expect(noGw.diagnostics[0].message).toMatch(/"regnet_x" blocks need group_width/);
    const bad = compileSource(base('  - { block: regnet_x, channels: 20, blocks: 1, stride: 2, group_width: 8 }'), { file: 'r.yaml' });
    expect(bad.diagnostics[0].message).toMatch(/round\(20 \* 1\) = 20 is not a multiple of group_width 8/);
    expect(bad.diagnostics[0].loc.line).toBe(7);
    const ok = compileSource(base('  - regnet: { depth: 3, w0: 16, wa: 8, wm: 2, group_width: 8 }'), { file: 'r.yaml' });
    expect(ok.diagnostics).toEqual([]);
    expect(ok.graph!.stages.map((s) => [s.name, s.blocks, s.shape[2]])).toEqual([
      // widths 16 + 8i = 16, 24, 32 snap to 16 * 2^round(log2(w / 16)) = 16, 32, 32
      ['trunk_output.block1', 1, 16],
      ['trunk_output.block2', 2, 32],
    ]);
    const unknown = compileSource(base('  - regnet: { depth: 3, w0: 16, wa: 8, wm: 2, group_width: 8, width: 3 }'), { file: 'r.yaml' });
    expect(unknown.diagnostics[0].loc.line).toBe(7);
  });
});
