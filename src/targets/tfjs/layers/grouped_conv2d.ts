import * as tf from '@tensorflow/tfjs';
import { deserializeInitializer, isInitializer, serializeInitializer, type Initializer } from '../init.js';
import { tfSamePads } from '../padding.js';
import { PACKAGE, single, singleShape, type LayerArgs } from './common.js';

export interface GroupedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  groups: number;
  padding: 'valid' | 'same';
  useBias: boolean;
  kernelInitializer: Initializer | tf.serialization.ConfigDict;
  biasInitializer?: Initializer | tf.serialization.ConfigDict;
}

const asInit = (i: Initializer | tf.serialization.ConfigDict) =>
  isInitializer(i) ? i : deserializeInitializer(i);

/**
 * skipgraph's own convolution, for what tf.layers.conv2d cannot do: groups (PyTorch's
 * Conv2d(groups=g)), and dilation that trains (see atrous). The kernel
 * is [kh, kw, in / groups, filters] (output channels of group k are k*filters/g...); the call
 * convolves each channel group with its slice of the kernel and concatenates, which autodiff
 * differentiates through split/concat like any other op.
 */
export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly groups: number;
  readonly padding: 'valid' | 'same';
  readonly useBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = [...args.kernelSize];
    this.strides = [...args.strides];
    this.dilationRate = [...args.dilationRate];
    this.groups = args.groups;
    this.padding = args.padding;
    this.useBias = args.useBias;
    this.kernelInitializer = asInit(args.kernelInitializer);
    this.biasInitializer = args.biasInitializer === undefined ? tf.initializers.zeros() : asInit(args.biasInitializer);
    if (this.filters % this.groups !== 0) throw new Error(`${this.name}: ${this.filters} filters do not split into ${this.groups} groups`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const channels = singleShape(inputShape)[3];
    if (channels === null || channels % this.groups !== 0) {
      throw new Error(`${this.name}: ${channels} input channels do not split into ${this.groups} groups`);
    }
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight('kernel', [kh, kw, channels / this.groups, this.filters], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = singleShape(inputShape);
    const out = (size: number | null, axis: 0 | 1): number | null => {
      if (size === null) return null;
      if (this.padding === 'same') return Math.ceil(size / this.strides[axis]);
      const span = (this.kernelSize[axis] - 1) * this.dilationRate[axis] + 1;
      return Math.floor((size - span) / this.strides[axis]) + 1;
    };
    return [n, out(h, 0), out(w, 1), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const kernel = this.kernel!.read() as tf.Tensor4D;
      const y = this.dilationRate.some((d) => d > 1) ? this.atrous(x, kernel) : this.grouped(x, kernel, this.strides, this.padding);
      return this.bias === undefined ? y : tf.add(y, this.bias.read());
    });
  }

  /** Each channel group convolved with its slice of the kernel, concatenated (no dilation). */
  private grouped(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: 'valid' | 'same'): tf.Tensor4D {
    if (this.groups === 1) return tf.conv2d(x, kernel, strides, padding, 'NHWC');
    const xs = tf.split(x, this.groups, 3);
    const ks = tf.split(kernel, this.groups, 3);
    return tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ks[g] as tf.Tensor4D, strides, padding, 'NHWC')), 3);
  }

  /**
   * A dilated (atrous) stride-1 convolution as TensorFlow's atrous_conv2d computes it: the padded
   * input is split into d x d phase grids (SpaceToBatchND), each convolved with the plain kernel,
   * and the results interleaved back (BatchToSpaceND). The same MACs as a dilated conv, and every
   * op has a gradient in TF.js, whose own conv gradients (fused and plain) assert dilation 1.
   */
  private atrous(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
    if (this.strides.some((s) => s !== 1)) throw new Error(`${this.name}: a dilated conv must have stride 1`);
    const [dh, dw] = this.dilationRate;
    const [kh, kw] = this.kernelSize;
    const [, h, w] = x.shape;
    const [pt, pb] = this.padding === 'same' ? tfSamePads(h, kh, 1, dh) : [0, 0];
    const [pl, pr] = this.padding === 'same' ? tfSamePads(w, kw, 1, dw) : [0, 0];
    // Extra rows/columns after the data so that each axis divides by its dilation; cropped after.
    const eh = (dh - ((h + pt + pb) % dh)) % dh;
    const ew = (dw - ((w + pl + pr) % dw)) % dw;
    const phases = tf.spaceToBatchND(x, [dh, dw], [[pt, pb + eh], [pl, pr + ew]]) as tf.Tensor4D;
    const y = this.grouped(phases, kernel, [1, 1], 'valid');
    return tf.batchToSpaceND(y, [dh, dw], [[0, eh], [0, ew]]) as tf.Tensor4D;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      dilationRate: [...this.dilationRate],
      groups: this.groups,
      padding: this.padding,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }
}
tf.serialization.registerClass(GroupedConv2D, PACKAGE);
