import * as tf from '@tensorflow/tfjs';
import { isReplaced, replaceKernel, restoreKernel } from '../kernels/replace.js';
import { BACKEND, WORKGROUP, MAX_GROUPS, channelBlock, ints, ConvForwardProgram, ConvBackpropInputProgram, ConvBackpropFilterProgram, SliceSumProgram, ColumnSumProgram, type Info, type WebGpuBackendLike } from './webgpu_programs.js';

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
