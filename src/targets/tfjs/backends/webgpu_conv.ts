import * as tf from '@tensorflow/tfjs';
import { isReplaced, replaceKernel, restoreKernel } from '../kernels/replace.js';

/**
 * Register-blocked direct convolution shaders for TF.js's WebGPU backend on a *software* adapter
 * (Mesa llvmpipe through Dawn's OpenGL ES route; lavapipe likewise).
 *
 * Why: llvmpipe runs a shader's arithmetic fast, but every storage-buffer load costs several
 * nanoseconds per invocation (measured: 120-230 million loads/s on 2 cores), so a kernel's speed
 * is its loads per multiply-add. TF.js 4.22's convolution shaders are written for GPUs (tiles in
 * workgroup memory, one or few outputs per invocation) and run at 15-140 million MACs/s there; its
 * Conv2DBackpropFilter is a loop over the whole batch per output element (~45 million MACs/s) and
 * its Conv2D with one input channel (an MNIST stem) ~15 million. The shaders here give each
 * invocation a block of R outputs x 4*CV channels, so each step of the reduction loads R + 4*CV
 * floats for 4*R*CV multiply-adds (R = 4, CV = 2: 12 loads for 32 MACs). Sum and Mean over every
 * axis but the last (batch norm's statistics and gradients) get a column reduction in one pass
 * (TF.js transposes the channels to the front first, a second full pass).
 *
 * Installed only for software adapters (registerWebGpu decides): on a GPU the stock tiled
 * shaders are the right ones. Anything these do not handle (NCHW, dilation, fused activations
 * other than linear/relu, prelu, reductions over other axes) goes to the stock kernel.
 */
const BACKEND = 'webgpu';
const WORKGROUP = 64;
/** Most workgroups one dispatch dimension may hold (WebGPU's default limit). */
const MAX_GROUPS = 65535;

type Info = tf.TensorInfo;
interface WebGpuBackendLike extends tf.KernelBackend {
  runWebGPUProgram(program: object, inputs: Info[], dtype: tf.DataType, uniforms?: { type: string; data: number[] }[], output?: Info): Info;
}

/** The channel vector width and vectors per invocation for `channels` output channels. */
function channelBlock(channels: number): { width: number; vectors: number } {
  if (channels % 8 === 0) return { width: 4, vectors: 2 };
  if (channels % 4 === 0) return { width: 4, vectors: 1 };
  return { width: 1, vectors: 1 };
}

const zero = (width: number) => (width === 4 ? 'vec4<f32>(0.0)' : '0.0');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ints = (...values: number[]) => values.map((v) => ({ type: 'int32', data: [v] }));

/** A program object as TF.js's runWebGPUProgram takes it: flat dispatch, `main(index)`. */
abstract class BlockedProgram {
  abstract variableNames: string[];
  abstract variableComponents: number[];
  abstract outputComponent: number;
  abstract uniforms: string;
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout = { x: [] as number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(outputShape: number[], blocks: number) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: range(outputShape.length) };
    this.dispatch = [Math.ceil(blocks / WORKGROUP), 1, 1];
  }
  abstract getUserCode(): string;
}

/**
 * y[n, oh, ow, co] = sum over (kh, kw, ci) of x[n, oh*sh - top + kh, ow*sw - left + kw, ci] *
 * w[kh, kw, ci, co]; an invocation does R output columns x CV channel vectors.
 */
class ConvForwardProgram extends BlockedProgram {
  variableNames = ['x', 'w'];
  variableComponents: number[];
  outputComponent: number;
  uniforms = 'blocks : i32, cBlocks : i32, owBlocks : i32, kh : i32, kw : i32, sh : i32, sw : i32, top : i32, left : i32,';
  shaderKey: string;

  constructor(outShape: number[], blocks: number, readonly r: number, readonly width: number, readonly vectors: number, readonly bias: boolean, readonly relu: boolean) {
    super(outShape, blocks);
    this.variableComponents = [1, width];
    this.outputComponent = width;
    if (bias) {
      this.variableNames.push('bias');
      this.variableComponents.push(width);
    }
    this.shaderKey = `skipgraph_conv_fwd_${r}_${width}_${vectors}_${bias}_${relu}`;
  }

  getUserCode(): string {
    const { r: R, width, vectors: V } = this;
    const rows = range(R);
    const vecs = range(V);
    const acc = (i: number, v: number) => `acc${i}_${v}`;
    const finish = (value: string, v: number) => {
      let s = value;
      if (this.bias) s = `(${s} + bias[cb * ${V} + ${v}])`;
      if (this.relu) s = `max(${s}, ${zero(width)})`;
      return s;
    };
    return `
    fn main(index : i32) {
      if (index >= uniforms.blocks) { return; }
      let H = uniforms.xShape[1];
      let W = uniforms.xShape[2];
      let C = uniforms.xShape[3];
      let OH = uniforms.outShape[1];
      let OW = uniforms.outShape[2];
      let CoV = uniforms.outShape[3] / ${width};
      let cb = index % uniforms.cBlocks;
      var t = index / uniforms.cBlocks;
      let owb = t % uniforms.owBlocks;
      t = t / uniforms.owBlocks;
      let oh = t % OH;
      let n = t / OH;
      let ow0 = owb * ${R};
      ${rows.flatMap((i) => vecs.map((v) => `var ${acc(i, v)} = ${zero(width)};`)).join('\n      ')}
      for (var kh = 0; kh < uniforms.kh; kh++) {
        let ih = oh * uniforms.sh - uniforms.top + kh;
        if (ih < 0 || ih >= H) { continue; }
        let rowBase = (n * H + ih) * W;
        for (var kw = 0; kw < uniforms.kw; kw++) {
          ${rows.map((i) => `let iw${i} = (ow0 + ${i}) * uniforms.sw - uniforms.left + kw;
          let ok${i} = iw${i} >= 0 && iw${i} < W;
          let xi${i} = (rowBase + clamp(iw${i}, 0, W - 1)) * C;`).join('\n          ')}
          var wi = (kh * uniforms.kw + kw) * C * CoV + cb * ${V};
          for (var c = 0; c < C; c++) {
            ${rows.map((i) => `let a${i} = select(0.0, x[xi${i} + c], ok${i});`).join('\n            ')}
            ${vecs.map((v) => `let b${v} = w[wi + ${v}];`).join('\n            ')}
            ${rows.flatMap((i) => vecs.map((v) => `${acc(i, v)} = fma(${width === 4 ? `vec4<f32>(a${i})` : `a${i}`}, b${v}, ${acc(i, v)});`)).join('\n            ')}
            wi += CoV;
          }
        }
      }
      let outBase = ((n * OH + oh) * OW + ow0) * CoV + cb * ${V};
      ${rows.map((i) => `if (ow0 + ${i} < OW) {
        ${vecs.map((v) => `result[outBase + ${i} * CoV + ${v}] = ${finish(acc(i, v), v)};`).join('\n        ')}
      }`).join('\n      ')}
    }`;
  }
}

/**
 * dx[n, ih, iw, ci] = sum over (kh, kw, co) with oh*sh - top + kh = ih and ow*sw - left + kw = iw
 * of dy[n, oh, ow, co] * w[kh, kw, ci, co]. `wt` is w as [kh, kw, co, ci]. An invocation does R
 * input columns of one stride phase (iw = phase + sw*q, consecutive q: they share which taps
 * reach them) x CV channel vectors.
 */
class ConvBackpropInputProgram extends BlockedProgram {
  variableNames = ['dy', 'wt'];
  variableComponents: number[];
  outputComponent: number;
  uniforms = 'blocks : i32, cBlocks : i32, qBlocks : i32, kh : i32, kw : i32, sh : i32, sw : i32, top : i32, left : i32,';
  shaderKey: string;

  constructor(outShape: number[], blocks: number, readonly r: number, readonly width: number, readonly vectors: number) {
    super(outShape, blocks);
    this.variableComponents = [1, width];
    this.outputComponent = width;
    this.shaderKey = `skipgraph_conv_dx_${r}_${width}_${vectors}`;
  }

  getUserCode(): string {
    const { r: R, width, vectors: V } = this;
    const rows = range(R);
    const vecs = range(V);
    const acc = (i: number, v: number) => `acc${i}_${v}`;
    return `
    fn main(index : i32) {
      if (index >= uniforms.blocks) { return; }
      let OH = uniforms.dyShape[1];
      let OW = uniforms.dyShape[2];
      let Co = uniforms.dyShape[3];
      let H = uniforms.outShape[1];
      let W = uniforms.outShape[2];
      let CiV = uniforms.outShape[3] / ${width};
      let cb = index % uniforms.cBlocks;
      var t = index / uniforms.cBlocks;
      let qb = t % uniforms.qBlocks;
      t = t / uniforms.qBlocks;
      let phase = t % uniforms.sw;
      t = t / uniforms.sw;
      let ih = t % H;
      let n = t / H;
      let q0 = qb * ${R};
      ${rows.flatMap((i) => vecs.map((v) => `var ${acc(i, v)} = ${zero(width)};`)).join('\n      ')}
      for (var kh = 0; kh < uniforms.kh; kh++) {
        let th = ih + uniforms.top - kh;
        if (th < 0 || th % uniforms.sh != 0) { continue; }
        let oh = th / uniforms.sh;
        if (oh >= OH) { continue; }
        let rowBase = (n * OH + oh) * OW;
        for (var kw = 0; kw < uniforms.kw; kw++) {
          let d = phase + uniforms.left - kw;
          if (d % uniforms.sw != 0) { continue; }
          let shift = d / uniforms.sw;
          ${rows.map((i) => `let ow${i} = q0 + ${i} + shift;
          let ok${i} = ow${i} >= 0 && ow${i} < OW && phase + (q0 + ${i}) * uniforms.sw < W;
          let yi${i} = (rowBase + clamp(ow${i}, 0, OW - 1)) * Co;`).join('\n          ')}
          var wi = (kh * uniforms.kw + kw) * Co * CiV + cb * ${V};
          for (var c = 0; c < Co; c++) {
            ${rows.map((i) => `let a${i} = select(0.0, dy[yi${i} + c], ok${i});`).join('\n            ')}
            ${vecs.map((v) => `let b${v} = wt[wi + ${v}];`).join('\n            ')}
            ${rows.flatMap((i) => vecs.map((v) => `${acc(i, v)} = fma(${width === 4 ? `vec4<f32>(a${i})` : `a${i}`}, b${v}, ${acc(i, v)});`)).join('\n            ')}
            wi += CiV;
          }
        }
      }
      ${rows.map((i) => `{
        let iw = phase + (q0 + ${i}) * uniforms.sw;
        if (iw < W) {
          let o = ((n * H + ih) * W + iw) * CiV + cb * ${V};
          ${vecs.map((v) => `result[o + ${v}] = ${acc(i, v)};`).join('\n          ')}
        }
      }`).join('\n      ')}
    }`;
  }
}

/**
 * dw[kh, kw, ci, co] = sum over (n, oh, ow) of x[n, oh*sh - top + kh, ow*sw - left + kw, ci] *
 * dy[n, oh, ow, co], as S partial sums over slices of the batch (output [S, kh, kw, ci, co]),
 * for parallelism when the filter is small. An invocation does R input channels x CV vectors of
 * output channels for one tap.
 */
class ConvBackpropFilterProgram extends BlockedProgram {
  variableNames = ['x', 'dy'];
  variableComponents: number[];
  outputComponent: number;
  uniforms = 'blocks : i32, cBlocks : i32, ciBlocks : i32, perSlice : i32, kh : i32, kw : i32, sh : i32, sw : i32, top : i32, left : i32,';
  shaderKey: string;

  constructor(outShape: number[], blocks: number, readonly r: number, readonly width: number, readonly vectors: number) {
    super(outShape, blocks);
    this.variableComponents = [1, width];
    this.outputComponent = width;
    this.shaderKey = `skipgraph_conv_dw_${r}_${width}_${vectors}`;
  }

  getUserCode(): string {
    const { r: R, width, vectors: V } = this;
    const rows = range(R);
    const vecs = range(V);
    const acc = (i: number, v: number) => `acc${i}_${v}`;
    return `
    fn main(index : i32) {
      if (index >= uniforms.blocks) { return; }
      let N = uniforms.xShape[0];
      let H = uniforms.xShape[1];
      let W = uniforms.xShape[2];
      let C = uniforms.xShape[3];
      let OH = uniforms.dyShape[1];
      let OW = uniforms.dyShape[2];
      let CoV = uniforms.dyShape[3] / ${width};
      let cb = index % uniforms.cBlocks;
      var t = index / uniforms.cBlocks;
      let cib = t % uniforms.ciBlocks;
      t = t / uniforms.ciBlocks;
      let tap = t % (uniforms.kh * uniforms.kw);
      let slice = t / (uniforms.kh * uniforms.kw);
      let kh = tap / uniforms.kw;
      let kw = tap % uniforms.kw;
      let c0 = cib * ${R};
      ${rows.flatMap((i) => vecs.map((v) => `var ${acc(i, v)} = ${zero(width)};`)).join('\n      ')}
      let nEnd = min(N, (slice + 1) * uniforms.perSlice);
      for (var n = slice * uniforms.perSlice; n < nEnd; n++) {
        for (var oh = 0; oh < OH; oh++) {
          let ih = oh * uniforms.sh - uniforms.top + kh;
          if (ih < 0 || ih >= H) { continue; }
          let xRow = (n * H + ih) * W;
          var yi = ((n * OH + oh) * OW) * CoV + cb * ${V};
          for (var ow = 0; ow < OW; ow++) {
            let iw = ow * uniforms.sw - uniforms.left + kw;
            if (iw >= 0 && iw < W) {
              let xi = (xRow + iw) * C + c0;
              ${rows.map((i) => `let a${i} = x[xi + ${i}];`).join('\n              ')}
              ${vecs.map((v) => `let b${v} = dy[yi + ${v}];`).join('\n              ')}
              ${rows.flatMap((i) => vecs.map((v) => `${acc(i, v)} = fma(${width === 4 ? `vec4<f32>(a${i})` : `a${i}`}, b${v}, ${acc(i, v)});`)).join('\n              ')}
            }
            yi += CoV;
          }
        }
      }
      let o = ((slice * uniforms.kh * uniforms.kw + tap) * C + c0) * CoV + cb * ${V};
      ${rows.flatMap((i) => vecs.map((v) => `result[o + ${i} * CoV + ${v}] = ${acc(i, v)};`)).join('\n      ')}
    }`;
  }
}

type Geometry = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Only what these shaders do: NHWC float32, no dilation. */
function plain(info: Geometry, ...tensors: Info[]): boolean {
  return info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1 && tensors.every((t) => t.dtype === 'float32');
}

function geometry(xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: unknown; dataFormat?: string; dilations?: number | [number, number]; dimRoundingMode?: string }): Geometry {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    attrs.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
}

export function conv2dForward(backend: WebGpuBackendLike, x: Info, filter: Info, info: Geometry, bias?: Info, relu = false): Info | undefined {
  const Co = info.outChannels;
  if (!plain(info, x, filter) || info.outShape.some((d) => d === 0)) return undefined;
  if (bias !== undefined && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== Co)) return undefined;
  const { width, vectors } = channelBlock(Co);
  const R = 4;
  const cBlocks = Co / (width * vectors);
  const owBlocks = Math.ceil(info.outWidth / R);
  const blocks = info.batchSize * info.outHeight * owBlocks * cBlocks;
  if (Math.ceil(blocks / WORKGROUP) > MAX_GROUPS) return undefined;
  const program = new ConvForwardProgram(info.outShape, blocks, R, width, vectors, bias !== undefined, relu);
  const inputs = bias === undefined ? [x, filter] : [x, filter, bias];
  return backend.runWebGPUProgram(program, inputs, 'float32', ints(blocks, cBlocks, owBlocks, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left));
}

export function conv2dBackpropInput(backend: WebGpuBackendLike, dy: Info, filter: Info, info: Geometry): Info | undefined {
  const Ci = info.inChannels;
  if (!plain(info, dy, filter)) return undefined;
  const { width, vectors } = channelBlock(Ci);
  const R = 4;
  const cBlocks = Ci / (width * vectors);
  const qBlocks = Math.ceil(Math.ceil(info.inWidth / info.strideWidth) / R);
  const blocks = info.batchSize * info.inHeight * info.strideWidth * qBlocks * cBlocks;
  if (Math.ceil(blocks / WORKGROUP) > MAX_GROUPS) return undefined;
  const transpose = tf.getKernel('Transpose', BACKEND)!;
  const wt = transpose.kernelFunc({ inputs: { x: filter }, backend, attrs: { perm: [0, 1, 3, 2] } }) as Info;
  try {
    const program = new ConvBackpropInputProgram(info.inShape, blocks, R, width, vectors);
    return backend.runWebGPUProgram(program, [dy, wt], 'float32', ints(blocks, cBlocks, qBlocks, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left));
  } finally {
    backend.disposeData(wt.dataId);
  }
}

/** Invocations below which the batch is split into slices summed afterwards. */
const FILTER_PARALLELISM = 512;

export function conv2dBackpropFilter(backend: WebGpuBackendLike, x: Info, dy: Info, info: Geometry): Info | undefined {
  const { inChannels: Ci, outChannels: Co, filterHeight: kh, filterWidth: kw, batchSize: N } = info;
  if (!plain(info, x, dy)) return undefined;
  const { width, vectors } = channelBlock(Co);
  const R = Ci % 4 === 0 ? 4 : Ci % 2 === 0 ? 2 : 1;
  const cBlocks = Co / (width * vectors);
  const ciBlocks = Ci / R;
  const perSliceBlocks = kh * kw * ciBlocks * cBlocks;
  const wanted = Math.min(N, Math.max(1, Math.ceil(FILTER_PARALLELISM / perSliceBlocks)));
  const perSlice = Math.ceil(N / wanted);
  const slices = Math.ceil(N / perSlice);
  const blocks = slices * perSliceBlocks;
  if (Math.ceil(blocks / WORKGROUP) > MAX_GROUPS) return undefined;
  const size = kh * kw * Ci * Co;
  const shape = slices === 1 ? [kh, kw, Ci, Co] : [slices, size];
  const program = new ConvBackpropFilterProgram(shape, blocks, R, width, vectors);
  const partial = backend.runWebGPUProgram(program, [x, dy], 'float32', ints(blocks, cBlocks, ciBlocks, perSlice, kh, kw, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left));
  if (slices === 1) return partial;
  try {
    const sum = new SliceSumProgram([kh, kw, Ci, Co], width);
    return backend.runWebGPUProgram(sum, [partial], 'float32', [...ints(slices, size / width), { type: 'float32', data: [1] }]);
  } finally {
    backend.disposeData(partial.dataId);
  }
}

/** result[i] = sum over s of partial[s, i]: the slices of the filter gradient added up. */
class SliceSumProgram extends BlockedProgram {
  variableNames = ['partial'];
  variableComponents: number[];
  outputComponent: number;
  uniforms = 'slices : i32, count : i32, scale : f32,';
  shaderKey: string;

  constructor(outShape: number[], readonly width: number) {
    super(outShape, tf.util.sizeFromShape(outShape) / width);
    this.variableComponents = [width];
    this.outputComponent = width;
    this.shaderKey = `skipgraph_slice_sum_${width}`;
  }

  getUserCode(): string {
    return `
    fn main(index : i32) {
      if (index >= uniforms.count) { return; }
      var acc = ${zero(this.width)};
      for (var s = 0; s < uniforms.slices; s++) {
        acc += partial[s * uniforms.count + index];
      }
      result[index] = acc * uniforms.scale;
    }`;
  }
}

/**
 * Partial column sums of x viewed as [rows, columns]: result[s, c] = scale * sum of x[r, c] over
 * the rows of slice s. What batch norm's statistics and gradients need (every axis but the
 * channels), in one pass; TF.js's reduction first transposes the channels to the front.
 */
class ColumnSumProgram extends BlockedProgram {
  variableNames = ['x'];
  variableComponents: number[];
  outputComponent: number;
  uniforms = 'blocks : i32, columns : i32, rows : i32, perSlice : i32, scale : f32,';
  shaderKey: string;

  constructor(outShape: number[], blocks: number, readonly width: number) {
    super(outShape, blocks);
    this.variableComponents = [width];
    this.outputComponent = width;
    this.shaderKey = `skipgraph_column_sum_${width}`;
  }

  getUserCode(): string {
    return `
    fn main(index : i32) {
      if (index >= uniforms.blocks) { return; }
      let c = index % uniforms.columns;
      let slice = index / uniforms.columns;
      let end = min(uniforms.rows, (slice + 1) * uniforms.perSlice);
      var acc = ${zero(this.width)};
      var i = slice * uniforms.perSlice * uniforms.columns + c;
      for (var r = slice * uniforms.perSlice; r < end; r++) {
        acc += x[i];
        i += uniforms.columns;
      }
      result[index] = acc * uniforms.scale;
    }`;
  }
}

/** Invocations below which the rows are split into slices summed afterwards. */
const REDUCE_PARALLELISM = 512;

/** Sum (or mean) of x over every axis but the last; undefined unless that is what `axes` asks. */
export function channelSum(backend: WebGpuBackendLike, x: Info, axis: number | number[], keepDims: boolean, mean: boolean): Info | undefined {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return undefined;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  if (axes.length !== rank - 1 || axes.some((a, i) => a !== i)) return undefined;
  const C = x.shape[rank - 1];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  if (rows === 0 || C === 0) return undefined;
  const width = C % 4 === 0 ? 4 : 1;
  const columns = C / width;
  const wanted = Math.min(rows, Math.max(1, Math.ceil(REDUCE_PARALLELISM / columns)));
  const perSlice = Math.ceil(rows / wanted);
  const slices = Math.ceil(rows / perSlice);
  const blocks = slices * columns;
  if (Math.ceil(blocks / WORKGROUP) > MAX_GROUPS) return undefined;
  const outShape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), C] : [C];
  const scale = mean ? 1 / rows : 1;
  const f32 = (v: number) => ({ type: 'float32', data: [v] });
  if (slices === 1) {
    return backend.runWebGPUProgram(new ColumnSumProgram(outShape, blocks, width), [x], 'float32', [...ints(blocks, columns, rows, perSlice), f32(scale)]);
  }
  const partial = backend.runWebGPUProgram(new ColumnSumProgram([slices, C], blocks, width), [x], 'float32', [...ints(blocks, columns, rows, perSlice), f32(1)]);
  try {
    return backend.runWebGPUProgram(new SliceSumProgram(outShape, width), [partial], 'float32', [...ints(slices, columns), f32(scale)]);
  } finally {
    backend.disposeData(partial.dataId);
  }
}

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

const KERNELS: Record<string, (args: Args, stock: KernelFunc) => Info | undefined> = {
  Conv2D: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: Info; filter: Info };
    const info = geometry(x.shape, filter.shape, attrs as never);
    return conv2dForward(backend as WebGpuBackendLike, x, filter, info);
  },
  FusedConv2D: ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info };
    const { activation } = attrs as { activation?: string };
    if (preluActivationWeights != null) return undefined;
    if (activation !== undefined && activation !== 'linear' && activation !== 'relu') return undefined;
    const info = geometry(x.shape, filter.shape, attrs as never);
    return conv2dForward(backend as WebGpuBackendLike, x, filter, info, bias ?? undefined, activation === 'relu');
  },
  Conv2DBackpropInput: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: Info; filter: Info };
    const { inputShape } = attrs as unknown as { inputShape: number[] };
    const info = geometry(inputShape, filter.shape, attrs as never);
    return conv2dBackpropInput(backend as WebGpuBackendLike, dy, filter, info);
  },
  Conv2DBackpropFilter: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: Info; dy: Info };
    const { filterShape } = attrs as unknown as { filterShape: number[] };
    const info = geometry(x.shape, filterShape, attrs as never);
    return conv2dBackpropFilter(backend as WebGpuBackendLike, x, dy, info);
  },
  Sum: ({ inputs, backend, attrs }) => {
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    return channelSum(backend as WebGpuBackendLike, (inputs as { x: Info }).x, axis, keepDims, false);
  },
  Mean: ({ inputs, backend, attrs }) => {
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    return channelSum(backend as WebGpuBackendLike, (inputs as { x: Info }).x, axis, keepDims, true);
  },
};

export const WEBGPU_DIRECT_CONV_KERNELS = Object.keys(KERNELS);

/**
 * Replaces the WebGPU convolution kernels with the blocked direct ones (for software adapters);
 * each falls back to the stock kernel for what it does not handle. Idempotent; returns the names.
 */
export function installWebGpuDirectConv(): string[] {
  for (const name of WEBGPU_DIRECT_CONV_KERNELS) {
    if (tf.getKernel(name, BACKEND) === undefined) continue;
    const direct = KERNELS[name];
    replaceKernel(name, BACKEND, (original) => (args) => direct(args, original!.kernelFunc) ?? original!.kernelFunc(args));
  }
  return installedWebGpuDirectConv();
}

/** Puts TF.js's own convolution kernels back. */
export function uninstallWebGpuDirectConv(): void {
  for (const name of WEBGPU_DIRECT_CONV_KERNELS) restoreKernel(name, BACKEND);
}

export function installedWebGpuDirectConv(): string[] {
  return WEBGPU_DIRECT_CONV_KERNELS.filter((name) => isReplaced(name, BACKEND));
}
