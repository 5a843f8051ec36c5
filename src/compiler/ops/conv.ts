import { convInit } from './init_rules.js';
import { convOut, hw, needMap, pair, quad, st, tooSmall, type WrittenOpDef } from './define.js';

export interface ConvAttrs {
  filters: number;
  kernel: [number, number];
  stride: [number, number];
  /** Explicit symmetric-or-not zero padding, PyTorch style: [top, bottom, left, right]. */
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

/** nn.Conv2d: weight [O, I/groups, kh, kw], then bias [O] when it has one. */
export const conv: WrittenOpDef<ConvAttrs> = {
  description: '2-D convolution (no bias by default: a batch norm follows).',
  plan(args) {
    const [filters, kernel, stride, dilation, groups, padding] = ['filters', 'kernel', 'stride', 'dilation', 'groups', 'padding'].map((k) => args.numbers(k));
    if (!filters || !kernel || !stride || !dilation || !groups || !padding) return undefined;
    const k = pair(kernel);
    const d = dilation.length ? pair(dilation) : ([1, 1] as [number, number]);
    // PyTorch's symmetric default: dilation * (kernel - 1) // 2 on every side.
    const ph = Math.floor((d[0] * (k[0] - 1)) / 2);
    const pw = Math.floor((d[1] * (k[1] - 1)) / 2);
    const pad = padding.length ? quad(padding) : ([ph, ph, pw, pw] as [number, number, number, number]);
    return { filters: filters[0], kernel: k, stride: stride.length ? pair(stride) : [1, 1], padding: pad, dilation: d, groups: groups.length ? groups[0] : 1, bias: args.flag('bias', false) };
  },
  shape(a, [x]) {
    const bad = needMap('conv', x);
    if (bad) return bad;
    const [h, w, c] = x;
    if (c % a.groups !== 0 || a.filters % a.groups !== 0) {
      return {
        code: 'groups-mismatch',
        message: `groups=${a.groups} must divide both the input channels (${c}) and the filters (${a.filters}).`,
        hint: `Choose groups among the common divisors of ${c} and ${a.filters}.`,
      };
    }
    if ((a.stride[0] > 1 || a.stride[1] > 1) && (a.dilation[0] > 1 || a.dilation[1] > 1)) {
      return {
        code: 'invalid-value',
        message: `a conv cannot combine stride ${a.stride.join('x')} with dilation ${a.dilation.join('x')}: the TensorFlow.js runtime has no such convolution.`,
        hint: "Dilated ResNets (torchvision replace_stride_with_dilation) keep stride 1 where they dilate: set stride: 1 on this stage or conv. After a dilated stage, block 0 of the next takes its dilation (first_dilation's default): a strided stage there needs first_dilation: 1.",
      };
    }
    const ho = convOut(h, a.kernel[0], a.stride[0], a.padding[0], a.padding[1], a.dilation[0]);
    const wo = convOut(w, a.kernel[1], a.stride[1], a.padding[2], a.padding[3], a.dilation[1]);
    if (ho < 1 || wo < 1) return tooSmall('conv', x, [ho, wo]);
    return [ho, wo, a.filters];
  },
  state(a, [x]) {
    const weight = { role: 'weight' as const, shape: [a.filters, x[x.length - 1] / a.groups, a.kernel[0], a.kernel[1]], kind: 'param' as const };
    return a.bias ? [weight, { role: 'bias', shape: [a.filters], kind: 'param' }] : [weight];
  },
  // One per weight per output position (so groups divide it).
  macs: (a, [x], out) => out[0] * out[1] * a.filters * (x[2] / a.groups) * a.kernel[0] * a.kernel[1],
  init: convInit,
  countsActivations: true,
  activation: false,
  example: { layer: '{ op: conv, filters: 6, kernel: 3, stride: 2, bias: true }', takes: 'map', gives: 'map' },
  keepsBlockPath: false,
  describe(a) {
    const g = a.groups > 1 ? ` g${a.groups}` : '';
    const d = a.dilation[0] > 1 || a.dilation[1] > 1 ? ` d${a.dilation[0]}` : '';
    return `conv ${hw(a.kernel)}${st(a.stride)}${g}${d}${a.bias ? ' +b' : ''}`;
  },
};
