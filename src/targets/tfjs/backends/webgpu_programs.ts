import * as tf from '@tensorflow/tfjs';

/**
 * The shader programs of webgpu_conv.ts (register-blocked direct convolution, its two gradients,
 * and the column and slice sums): each a program object as TF.js's runWebGPUProgram takes it.
 * Why they are shaped this way is said at the top of webgpu_conv.ts.
 */
export const BACKEND = 'webgpu';
export const WORKGROUP = 64;
/** Most workgroups one dispatch dimension may hold (WebGPU's default limit). */
export const MAX_GROUPS = 65535;

export type Info = tf.TensorInfo;
export interface WebGpuBackendLike extends tf.KernelBackend {
  runWebGPUProgram(program: object, inputs: Info[], dtype: tf.DataType, uniforms?: { type: string; data: number[] }[], output?: Info): Info;
}

/** The channel vector width and vectors per invocation for `channels` output channels. */
export function channelBlock(channels: number): { width: number; vectors: number } {
  if (channels % 8 === 0) return { width: 4, vectors: 2 };
  if (channels % 4 === 0) return { width: 4, vectors: 1 };
  return { width: 1, vectors: 1 };
}

const zero = (width: number) => (width === 4 ? 'vec4<f32>(0.0)' : '0.0');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
export const ints = (...values: number[]) => values.map((v) => ({ type: 'int32', data: [v] }));

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
export class ConvForwardProgram extends BlockedProgram {
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
export class ConvBackpropInputProgram extends BlockedProgram {
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
export class ConvBackpropFilterProgram extends BlockedProgram {
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



/** result[i] = sum over s of partial[s, i]: the slices of the filter gradient added up. */
export class SliceSumProgram extends BlockedProgram {
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
export class ColumnSumProgram extends BlockedProgram {
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
