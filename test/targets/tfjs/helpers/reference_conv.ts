/**
 * Plain-loop NHWC convolution gradients, written from the definition, as an oracle for the
 * composed kernels: y[n, oh, ow, o] = sum x[n, oh*sh - top + i, ow*sw - left + j, c] * w[i, j, c, o].
 */
export interface RefConv {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
  /** Dilation (default 1): tap i reads row oh*sh - top + i*dh. */
  dh?: number;
  dw?: number;
}

function forEachTap(g: RefConv, visit: (xi: number, di: number, wi: number) => void): void {
  for (let n = 0; n < g.n; n++)
    for (let oh = 0; oh < g.oh; oh++)
      for (let ow = 0; ow < g.ow; ow++)
        for (let i = 0; i < g.kh; i++) {
          const r = oh * g.sh - g.top + i * (g.dh ?? 1);
          if (r < 0 || r >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const col = ow * g.sw - g.left + j * (g.dw ?? 1);
            if (col < 0 || col >= g.w) continue;
            for (let c = 0; c < g.c; c++)
              for (let o = 0; o < g.co; o++) {
                visit(
                  ((n * g.h + r) * g.w + col) * g.c + c,
                  ((n * g.oh + oh) * g.ow + ow) * g.co + o,
                  ((i * g.kw + j) * g.c + c) * g.co + o,
                );
              }
          }
        }
}

export function refBackpropFilter(g: RefConv, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(g.kh * g.kw * g.c * g.co);
  forEachTap(g, (xi, di, wi) => {
    dw[wi] += x[xi] * dy[di];
  });
  return dw;
}

export function refBackpropInput(g: RefConv, dy: Float32Array, w: Float32Array): Float64Array {
  const dx = new Float64Array(g.n * g.h * g.w * g.c);
  forEachTap(g, (xi, di, wi) => {
    dx[xi] += w[wi] * dy[di];
  });
  return dx;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
