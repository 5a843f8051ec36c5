import * as tf from '@tensorflow/tfjs';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The parts of a 2-D convolution the composed kernels need, NHWC only. */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export function convGeometry(
  xShape: number[],
  filterShape: number[],
  strides: [number, number] | number,
  dilations: [number, number] | number,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: info.padInfo.bottom,
    right: info.padInfo.right,
  };
}

/** Where tap t (i * kw + j) of output (0, 0) reads the input: [row, column], padding included. */
export function tapOffset(g: ConvGeometry, t: number): [number, number] {
  return [Math.floor(t / g.kw) * g.dh - g.top, (t % g.kw) * g.dw - g.left];
}

/** Output positions [first, count] along one axis whose tap at offset `o` lands inside the input. */
export function reach(out: number, stride: number, offset: number, size: number): [number, number] {
  const first = Math.max(0, Math.ceil(-offset / stride));
  const last = Math.min(out - 1, Math.floor((size - 1 - offset) / stride));
  return [first, Math.max(0, last - first + 1)];
}

/**
 * The taps (i * kw + j) that reach the input at least once; the others only ever meet padding
 * (most taps of a 3x3 conv on a 1x1 map, as in ResNet-18's last stage at 32x32).
 */
export function liveTaps(g: ConvGeometry): number[] {
  const live: number[] = [];
  for (let t = 0; t < g.kh * g.kw; t++) {
    const [i, j] = tapOffset(g, t);
    if (reach(g.outH, g.sh, i, g.inH)[1] > 0 && reach(g.outW, g.sw, j, g.inW)[1] > 0) live.push(t);
  }
  return live;
}
