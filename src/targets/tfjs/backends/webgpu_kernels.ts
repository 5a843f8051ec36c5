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
 *
 * AddN of many tensors: the stock shader binds every input as a storage buffer, and a device
 * allows only `maxStorageBuffersPerShaderStage` of them (8 in WebGPU compatibility mode, Dawn's
 * OpenGL ES route): `--clip-grad`'s global norm adds one square-sum per variable (33 for
 * mnist_resnet) and the pipeline was invalid. The fix adds at most ADDN_CHUNK inputs at a time.
 */
const BACKEND = 'webgpu';

export function installWebGpuKernelFixes(): string[] {
  const reshape = tf.getKernel('Reshape', BACKEND);
  if (tf.getKernel('PadV2', BACKEND) === undefined || reshape === undefined) return [];
  const fixes = ['PadV2'];
  if (tf.getKernel('AddN', BACKEND) !== undefined) {
    replaceKernel('AddN', BACKEND, (original) => {
      const stock = original!;
      return (args) => addNInChunks(args.inputs as unknown as tf.TensorInfo[], args.backend as tf.KernelBackend, stock);
    });
    fixes.push('AddN');
  }
  replaceKernel('PadV2', BACKEND, (original) => {
    const stock = original!;
    return (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
      if (x.shape.length <= 4) return stock.kernelFunc(args);
      return padAxisByAxis(x, paddings, constantValue, args.backend as tf.KernelBackend, stock, reshape);
    };
  });
  return fixes;
}

/** Puts the stock PadV2 back (tests). */
export function uninstallWebGpuKernelFixes(): void {
  restoreKernel('PadV2', BACKEND);
  if (tf.getKernel('AddN', BACKEND) !== undefined) restoreKernel('AddN', BACKEND);
}

/** Inputs of one AddN shader: with its output, within the smallest per-stage storage-buffer limit (8). */
export const ADDN_CHUNK = 7;

function addNInChunks(inputs: tf.TensorInfo[], backend: tf.KernelBackend, addN: tf.KernelConfig): tf.TensorInfo {
  const run = (xs: tf.TensorInfo[]) => addN.kernelFunc({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend, attrs: {} }) as tf.TensorInfo;
  if (inputs.length <= ADDN_CHUNK) return run(inputs);
  let level = inputs;
  let owned = false; // the first level is the caller's tensors, later levels are ours to free
  while (level.length > ADDN_CHUNK) {
    const next: tf.TensorInfo[] = [];
    for (let i = 0; i < level.length; i += ADDN_CHUNK) {
      const part = level.slice(i, i + ADDN_CHUNK);
      // A lone leftover of ours is carried up as it is; a lone caller's tensor is copied, so every later level is ours.
      next.push(part.length === 1 && owned ? part[0] : run(part));
    }
    if (owned) for (const t of level) if (!next.includes(t)) backend.disposeData(t.dataId);
    level = next;
    owned = true;
  }
  const out = run(level);
  for (const t of level) backend.disposeData(t.dataId);
  return out;
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
