import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/files.js';
import { requireClassifier } from '../../src/compiler/index.js';

/**
 * Every file in architectures/ compiles, and its numbers are the published ones. torchvision's
 * figures (params = trainable, MACs = conv + dense multiply-accumulates at 224x224, 1000 classes;
 * CIFAR nets at 32x32, 10 classes) come from the table; the three others are derived by
 * hand in the comments below.
 */
const expected: Record<string, { params: number; macs: number; nonTrainable?: number; stages?: string[]; warnings?: string[] }> = {
  resnet18: { params: 11_689_512, macs: 1_814_073_344, nonTrainable: 9_600, stages: ['56x56x64', '28x28x128', '14x14x256', '7x7x512'] },
  resnet34: { params: 21_797_672, macs: 3_663_761_408, stages: ['56x56x64', '28x28x128', '14x14x256', '7x7x512'] },
  resnet50: { params: 25_557_032, macs: 4_089_184_256, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  resnet101: { params: 44_549_160, macs: 7_801_405_440, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  resnet152: { params: 60_192_808, macs: 11_513_626_624, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  resnext50_32x4d: { params: 25_028_904, macs: 4_230_479_872, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  wide_resnet50_2: { params: 68_883_240, macs: 11_398_021_120, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  cifar_resnet20: { params: 269_722, macs: 40_551_040, stages: ['32x32x16', '16x16x32', '8x8x64'] },
  cifar_resnet56: { params: 853_018, macs: 125_485_696 },
  cifar_resnet110: { params: 1_727_962, macs: 252_887_680 },
  // Pre-activation ResNet-18, from ResNet-18's 11,689,512: no stem BN (-128); each stage's first
  // block normalises its C/2 input channels instead of C (-C for C = 128, 256, 512: -896);
  // projections have no BN (-2C each: -1,792); a final BN on 512 channels (+1,024).
  // = 11,687,720. Convs are unchanged, so MACs equal ResNet-18's.
  preact_resnet18: { params: 11_687_720, macs: 1_814_073_344, stages: ['56x56x64', '28x28x128', '14x14x256', '7x7x512'] },
  // ResNet-50-D (timm resnet50d, 25.58M): from ResNet-50's 25,557,032, the 7x7x3x64 stem conv
  // (9,408) and its BN (128) become 3x3 convs 3->32 (864), 32->32 (9,216), 32->64 (18,432) with BNs
  // of 32, 32, 64 channels (64 + 64 + 128): +19,232 -> 25,576,264. MACs: the stem convs at 112x112
  // add 12544 * (864 + 9216 + 18432) - 118,013,952 = 239,640,576 -> 4,328,824,832 (the avgdown
  // pools add none; their 1x1 convs run on the pooled map, as the strided ones did).
  resnet50d: { params: 25_576_264, macs: 4_328_824_832, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  // SE-ResNet-50 (Hu et al.: 28.09M): each block adds fc1 C*C/16 + C/16 and fc2 C/16*C + C for
  // C = 256 (x3 blocks), 512 (x4), 1024 (x6), 2048 (x3): 2,530,992 -> 28,088,024. MACs add
  // 2*C*C/16 per block: 2*(3*4096 + 4*16384 + 6*65536 + 3*262144) = 2,514,944 -> 4,091,699,200.
  // MNIST ResNet (28x28x1, 10 classes), by hand: stem 3x3 1->16 (144, 784*144 = 112,896 MACs) + BN
  // (32); stage 1 at 14x14: convs 2,304 + 2,304, 1x1 projection 256, three BNs of 16 -> 4,960 params,
  // 196 * 4,864 = 953,344 MACs; stage 2 at 7x7: 4,608 + 9,216 + 512 + 3 * 64 -> 14,528, 49 * 14,336
  // = 702,464; stage 3 at 4x4: 18,432 + 36,864 + 2,048 + 3 * 128 -> 57,728, 16 * 57,344 = 917,504;
  // fc 64 * 10 + 10 = 650 (640 MACs). Total 78,042 params, 2,686,848 MACs.
  mnist_resnet: { params: 78_042, macs: 2_686_848, stages: ['14x14x16', '7x7x32', '4x4x64'] },
  seresnet50: { params: 28_088_024, macs: 4_091_699_200, stages: ['56x56x256', '28x28x512', '14x14x1024', '7x7x2048'] },
  // torchvision resnet50(replace_stride_with_dilation=[False, True, True] / [False, False, True]):
  // ResNet-50's params; MACs from torchvision's own model with conv/linear forward hooks.
  resnet50_os8: { params: 25_557_032, macs: 19_079_364_608, stages: ['56x56x256', '28x28x512', '28x28x1024', '28x28x2048'] },
  resnet50_os16: { params: 25_557_032, macs: 6_208_618_496, stages: ['56x56x256', '28x28x512', '14x14x1024', '14x14x2048'] },
  // RegNets: torchvision's figures (params, buffers, MACs by forward hooks) and pycls's
  // model_complexity.json (2,684,792 params; its 199,040,872 "flops" count fc's 1,000 bias adds).
  // test/compiler/regnet.test.ts recomputes torchvision's with torchvision itself.
  regnet_x_400mf: { params: 5_495_976, macs: 413_812_608, nonTrainable: 37_856, stages: ['56x56x32', '28x28x64', '14x14x160', '7x7x400'] },
  regnet_y_400mf: { params: 4_344_144, macs: 401_842_848, nonTrainable: 27_152, stages: ['56x56x48', '28x28x104', '14x14x208', '7x7x440'] },
  regnetx_200mf: { params: 2_684_792, macs: 199_039_872, stages: ['56x56x24', '28x28x56', '14x14x152', '7x7x368'] },
  // MobileNet V2 and EfficientNet (issue 24): torchvision 0.14's own counts at 224 (trainable params,
  // MACs by conv/linear forward hooks); test/targets/torch/families.test.ts recomputes them with torchvision.
  mobilenet_v2: { params: 3_504_872, macs: 300_774_272 },
  efficientnet_b0: { params: 5_288_548, macs: 385_814_752 },
  efficientnet_b1: { params: 7_794_184, macs: 569_651_680 },
  efficientnet_b2: { params: 9_109_994, macs: 658_963_440 },
  efficientnet_b3: { params: 12_233_232, macs: 962_708_240 },
  efficientnet_b4: { params: 19_341_616, macs: 1_503_710_432 },
  efficientnet_b5: { params: 30_389_784, macs: 2_356_493_184 },
  efficientnet_b6: { params: 43_040_704, macs: 3_360_166_848 },
  // 534.54 MiB of activations per sample: a batch of 32 is over the 16 GiB warning line.
  efficientnet_b7: { params: 66_347_960, macs: 5_169_865_152, warnings: ['limit-exceeded'] },
  efficientnet_v2_s: { params: 21_458_488, macs: 2_849_895_872 },
  mobilenet_v3_large: { params: 5_483_032, macs: 216_589_760 },
  mobilenet_v3_small: { params: 2_542_856, macs: 56_510_400 },
  convnext_tiny: { params: 28_589_128, macs: 4_455_531_264 },
  convnext_small: { params: 50_223_688, macs: 8_683_712_256 },
  convnext_base: { params: 88_591_464, macs: 15_354_729_472 },
};

const files = readdirSync(new URL('../../architectures/', import.meta.url)).filter((f) => f.endsWith('.yaml'));

describe('architectures/', () => {
  it('has an expected row for every file, and a file for every row', () => {
    const onDisk = files.map((f) => f.replace(/\.yaml$/, ''));
    expect(onDisk.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(files)('%s compiles to its published numbers', (file) => {
    const name = file.replace(/\.yaml$/, '');
    const r = compileFile(new URL(`../../architectures/${file}`, import.meta.url).pathname);
    const want = expected[name];
    expect(r.diagnostics.map((d) => [d.severity, d.code])).toEqual((want?.warnings ?? []).map((c) => ['warning', c]));
    const g = r.graph!;
    expect(want, `no expected numbers for ${file}`).toBeDefined();
    expect(g.name).toBe(name);
    expect(g.totals.trainableParams).toBe(want.params);
    expect(g.totals.macs).toBe(want.macs);
    if (want.nonTrainable !== undefined) expect(g.totals.nonTrainableParams).toBe(want.nonTrainable);
    if (want.stages) expect(g.stages.map((s) => s.shape.join('x'))).toEqual(want.stages);
    // The output is the class scores.
    const c = requireClassifier(g, 'this test');
    expect(g.nodes.find((n) => n.id === c.output)!.shape).toEqual([c.classes]);
  });

  it('every file starts with the yaml-language-server schema line', () => {
    for (const f of files) {
      const first = readFileSyncText(f).split('\n')[0];
      expect(first).toBe('# yaml-language-server: $schema=../schemas/architecture.schema.json');
    }
  });
});

function readFileSyncText(f: string): string {
  return readFileSync(new URL(`../../architectures/${f}`, import.meta.url), 'utf8');
}
