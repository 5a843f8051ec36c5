/**
 * PyTorch's forward ops written from their definitions, NHWC, one image, for checking what the
 * emitted layers compute. Shapes: x [H, W, C]; conv weight [kh, kw, C / groups, Co] (TF layout).
 */
export interface Map3 {
  h: number;
  w: number;
  c: number;
  data: Float32Array;
}

export interface ConvSpec {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  filters: number;
}

export function refConv(x: Map3, weight: Float32Array, s: ConvSpec, bias?: Float32Array): Map3 {
  const [kh, kw] = s.kernel;
  const [t, b, l, r] = s.padding;
  const oh = Math.floor((x.h + t + b - s.dilation[0] * (kh - 1) - 1) / s.stride[0]) + 1;
  const ow = Math.floor((x.w + l + r - s.dilation[1] * (kw - 1) - 1) / s.stride[1]) + 1;
  const cin = x.c / s.groups;
  const cout = s.filters / s.groups;
  const out = new Float32Array(oh * ow * s.filters);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let o = 0; o < s.filters; o++) {
        const g = Math.floor(o / cout);
        let acc = bias ? bias[o] : 0;
        for (let a = 0; a < kh; a++) {
          const y = i * s.stride[0] - t + a * s.dilation[0];
          if (y < 0 || y >= x.h) continue;
          for (let e = 0; e < kw; e++) {
            const z = j * s.stride[1] - l + e * s.dilation[1];
            if (z < 0 || z >= x.w) continue;
            for (let c = 0; c < cin; c++) {
              acc += x.data[(y * x.w + z) * x.c + g * cin + c] * weight[((a * kw + e) * cin + c) * s.filters + o];
            }
          }
        }
        out[(i * ow + j) * s.filters + o] = acc;
      }
  return { h: oh, w: ow, c: s.filters, data: out };
}

export interface PoolSpec {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number];
  ceil: boolean;
  /** avg only: whether padded zeros count (PyTorch's count_include_pad). */
  countPad: boolean;
}

function poolOut(size: number, k: number, s: number, before: number, after: number, ceil: boolean): number {
  const span = size + before + after - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + before) out -= 1;
  return out;
}

export function refPool(x: Map3, kind: 'max' | 'avg', s: PoolSpec): Map3 {
  const [kh, kw] = s.kernel;
  const [t, b, l, r] = s.padding;
  const oh = poolOut(x.h, kh, s.stride[0], t, b, s.ceil);
  const ow = poolOut(x.w, kw, s.stride[1], l, r, s.ceil);
  const out = new Float32Array(oh * ow * x.c);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let c = 0; c < x.c; c++) {
        let best = -Infinity;
        let sum = 0;
        let inside = 0;
        let padded = 0;
        for (let a = 0; a < kh; a++)
          for (let e = 0; e < kw; e++) {
            const y = i * s.stride[0] - t + a;
            const z = j * s.stride[1] - l + e;
            // PyTorch counts positions inside input + explicit padding (not the ceil overhang).
            if (y < x.h + b && z < x.w + r) padded++;
            if (y < 0 || y >= x.h || z < 0 || z >= x.w) continue;
            const v = x.data[(y * x.w + z) * x.c + c];
            best = Math.max(best, v);
            sum += v;
            inside++;
          }
        out[(i * ow + j) * x.c + c] = kind === 'max' ? best : sum / (s.countPad ? padded : inside);
      }
  return { h: oh, w: ow, c: x.c, data: out };
}
