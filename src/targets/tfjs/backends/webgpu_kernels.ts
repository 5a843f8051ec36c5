import * as tf from '@tensorflow/tfjs';
import { replaceKernel, restoreKernel } from '../kernels/replace.js';

/**
 * Kernel fixes for TF.js 4.22's WebGPU backend.
 *
 * PadV2 of rank 5 or 6: its shader indexes `vec5`/`vec6`, which are WGSL structs, not vectors
 * ("cannot index type 'vec6'"); the pipeline is invalid and the output stays zeros, silently.
 * skipgraph's Subsample layer (the CIFAR option-A shortcut) slices a rank-6 view, and the
 * gradient of that slice is a rank-6 pad. The fix pads one axis at a time as a rank-3 tensor
 * [before, axis, after], which the stock kernel handles.
 */
const BACKEND = 'webgpu';

export function installWebGpuKernelFixes(): string[] {
  const reshape = tf.getKernel('Reshape', BACKEND);
  if (tf.getKernel('PadV2', BACKEND) === undefined || reshape === undefined) return [];
  replaceKernel('PadV2', BACKEND, (original) => {
    const stock = original!;
    return (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
      if (x.shape.length <= 4) return stock.kernelFunc(args);
      return padAxisByAxis(x, paddings, constantValue, args.backend as tf.KernelBackend, stock, reshape);
    };
  });
  return ['PadV2'];
}

/** Puts the stock PadV2 back (tests). */
export function uninstallWebGpuKernelFixes(): void {
  restoreKernel('PadV2', BACKEND);
}

function padAxisByAxis(
  x: tf.TensorInfo,
  paddings: [number, number][],
  constantValue: number,
  backend: tf.KernelBackend,
  pad: tf.KernelConfig,
  reshape: tf.KernelConfig,
): tf.TensorInfo {
  const made: tf.TensorInfo[] = [];
  const run = (k: tf.KernelConfig, inputs: tf.NamedTensorInfoMap, attrs: object): tf.TensorInfo => {
    const out = k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
    made.push(out);
    return out;
  };
  let result: tf.TensorInfo | undefined;
  try {
    let cur = x;
    let shape = [...x.shape];
    paddings.forEach(([before, after], axis) => {
      if (before === 0 && after === 0) return;
      const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const flat = run(reshape, { x: cur }, { shape: [outer, shape[axis], inner] });
      const padded = run(pad, { x: flat }, { paddings: [[0, 0], [before, after], [0, 0]], constantValue });
      shape = [...shape];
      shape[axis] += before + after;
      cur = run(reshape, { x: padded }, { shape });
    });
    // An all-zero padding still has to return a tensor of its own.
    result = cur === x ? run(reshape, { x }, { shape }) : cur;
    return result;
  } finally {
    for (const t of made) if (t !== result) backend.disposeData(t.dataId);
  }
}
