import * as tf from '@tensorflow/tfjs';
import { convGeometry, liveTaps } from './geometry.js';
import { withKernelScope } from './scope.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/**
 * Conv2D / FusedConv2D that leaves out the filter taps which only ever meet padding, then runs
 * the stock kernel on the smaller filter. A 3x3 'same' conv on a 1x1 map (ResNet-18's last stage
 * at 32x32 input) uses only its centre tap: the stock wasm kernel would multiply the other eight
 * by zeros, and, since XNNPACK repacks a filter each time it changes (every training step), pack
 * nine times the weights (about 15 ns per weight: 35 ms for one 3x3x512x512 filter, against 5 ms
 * for its centre). Exact: the dropped taps only ever read padding. The live taps of a convolution
 * always form a rectangle (rows x columns), so the smaller filter is one slice, and the padding
 * shrinks by the rows and columns dropped on each side, which keeps every output position.
 */
export function conv2dLiveTaps(args: KernelArgs, backendName: string, stock?: tf.KernelConfig): tf.TensorInfo {
  if (stock === undefined) throw new Error(`skipgraph: no stock convolution kernel on ${backendName} to run`);
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  const dilations = attrs.dilations ?? 1;
  if ((Array.isArray(dilations) ? dilations : [dilations, dilations]).some((d) => d !== 1)) return plain(args, stock);
  const g = convGeometry(x.shape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const live = liveTaps(g);
  if (live.length === g.kh * g.kw || live.length === 0) {
    // wasm's kernel gets 'same' wrong at stride 3 with an even kernel (a 1x4 filter, stride 3 on
    // a width of 7 was off by 8 against cpu); explicit pads, computed as TF.js does, are right.
    if (attrs.pad !== 'same') return plain(args, stock);
    const pad = [[0, 0], [g.top, g.bottom], [g.left, g.right], [0, 0]];
    return stock.kernelFunc({ ...args, attrs: { ...args.attrs, pad } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
  }
  const rows = live.map((t) => Math.floor(t / g.kw));
  const cols = live.map((t) => t % g.kw);
  const [i0, i1, j0, j1] = [Math.min(...rows), Math.max(...rows), Math.min(...cols), Math.max(...cols)];
  const pad = [g.top - i0, g.bottom - (g.kh - 1 - i1), g.left - j0, g.right - (g.kw - 1 - j1)];
  if (pad.some((p) => p < 0)) return plain(args, stock);
  return withKernelScope(args.backend, backendName, (k) => {
    // The rectangle of taps, one [C, Co] block per tap (wasm's Slice is an element loop).
    const block = g.inC * g.outC;
    const taps = k.make([i1 - i0 + 1, j1 - j0 + 1, g.inC, g.outC], (out) => {
      const w = k.view(filter);
      let at = 0;
      for (let i = i0; i <= i1; i++) {
        for (let j = j0; j <= j1; j++, at += block) out.set(w.subarray((i * g.kw + j) * block, (i * g.kw + j + 1) * block), at);
      }
    });
    return k.call(stock, { ...args.inputs, filter: taps }, { ...attrs, pad: [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]], dimRoundingMode: undefined });
  });
}

function plain(args: KernelArgs, stock: tf.KernelConfig): tf.TensorInfo {
  return stock.kernelFunc(args) as tf.TensorInfo;
}
